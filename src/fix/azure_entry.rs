//! KG102 and KG103 where a Bicep or ARM route is one entry of the array a
//! loop or a property `copy` makes the routes from.

use super::entry::{Changed, Want};
use crate::model::{Route, RouteTable};
use crate::source::SourceMap;

pub(super) fn change(
    _sources: &SourceMap,
    _parameters: &[std::path::PathBuf],
    _table: &RouteTable,
    _route: &Route,
    _want: &Want,
) -> Result<Changed, String> {
    Err("the route is not written out in the table".into())
}
