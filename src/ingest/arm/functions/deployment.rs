//! Resource and deployment functions: ids are built from the type and
//! names, which is what matching resources by id needs; the deployment's
//! own objects are only known during the deployment.

use super::{Builtin, ANY};
use crate::ingest::value::Val;
use crate::limits::Limits;

/// Sorted by name.
pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin::new("deployment", 0, 0, |_, _, _| deployment_object("deployment()")),
    Builtin::new("environment", 0, 0, |_, _, _| deployment_object("environment()")),
    Builtin::new("extensionresourceid", 3, ANY, resource_id),
    // Bicep's scope functions name the group: `managementGroup('mg')`,
    // `resourceGroup('sub', 'rg')`, `subscription('sub')`.
    Builtin::new("managementgroup", 0, 1, |name, _, _| deployment_object(&format!("{name}()"))),
    Builtin::new("resourcegroup", 0, 2, |_, _, _| deployment_object("resourceGroup()")),
    Builtin::new("resourceid", 2, ANY, resource_id),
    Builtin::new("subscription", 0, 1, |_, _, _| deployment_object("subscription()")),
    Builtin::new("subscriptionresourceid", 2, ANY, resource_id),
    Builtin::new("tenant", 0, 0, |name, _, _| deployment_object(&format!("{name}()"))),
    Builtin::new("tenantresourceid", 2, ANY, resource_id),
];

/// `resourceId()` and its scoped variants, as `/providers/<type>/<names>`:
/// the subscription and resource group are left out.
fn resource_id(name: &str, args: Vec<Val>, _: &Limits) -> Val {
    let strs: Vec<String> = args.iter().filter_map(Val::to_tf_string).collect();
    match strs
        .iter()
        .position(|s| s.contains('/') && s.split('/').next().is_some_and(|p| p.contains('.')))
    {
        Some(i) => Val::String(format!(
            "/providers/{}/{}",
            strs.get(i).cloned().unwrap_or_default(),
            strs.get(i + 1..).unwrap_or_default().join("/")
        )),
        None => Val::unknown(format!("{name}() could not be read")),
    }
}

/// An object whose properties are only known at deployment.
fn deployment_object(what: &str) -> Val {
    Val::unknown(format!("{what} is only known during the deployment"))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, check, s, unknown};
    use super::*;

    #[test]
    fn each_deployment_function_evaluates() {
        let vnet = || s("Microsoft.Network/virtualNetworks");
        check(
            FUNCTIONS,
            vec![
                (
                    "deployment",
                    vec![],
                    Val::unknown("deployment() is only known during the deployment"),
                ),
                (
                    "environment",
                    vec![],
                    Val::unknown("environment() is only known during the deployment"),
                ),
                (
                    "extensionResourceId",
                    vec![s("/x"), s("Microsoft.Authorization/locks"), s("l")],
                    s("/providers/Microsoft.Authorization/locks/l"),
                ),
                (
                    "managementGroup",
                    vec![s("mg")],
                    Val::unknown("managementGroup() is only known during the deployment"),
                ),
                (
                    "resourceGroup",
                    vec![s("sub"), s("rg")],
                    Val::unknown("resourceGroup() is only known during the deployment"),
                ),
                (
                    "resourceId",
                    vec![s("rg"), vnet(), s("hub")],
                    s("/providers/Microsoft.Network/virtualNetworks/hub"),
                ),
                (
                    "resourceId",
                    vec![s("rg"), s("hub")],
                    Val::unknown("resourceId() could not be read"),
                ),
                (
                    "subscription",
                    vec![],
                    Val::unknown("subscription() is only known during the deployment"),
                ),
                (
                    "subscriptionResourceId",
                    vec![vnet(), s("hub")],
                    s("/providers/Microsoft.Network/virtualNetworks/hub"),
                ),
                ("tenant", vec![], Val::unknown("tenant() is only known during the deployment")),
                (
                    "tenantResourceId",
                    vec![vnet(), s("hub")],
                    s("/providers/Microsoft.Network/virtualNetworks/hub"),
                ),
            ],
        );
    }

    #[test]
    fn an_unknown_name_makes_an_id_unknown() {
        assert_eq!(
            call("resourceId", vec![s("Microsoft.Network/virtualNetworks"), unknown()]),
            unknown()
        );
    }

    #[test]
    fn a_call_outside_the_arity_is_unknown_saying_so() {
        assert_eq!(
            call("resourceId", vec![s("x")]),
            Val::unknown("resourceId() takes at least 2 arguments, not 1")
        );
        assert_eq!(call("tenant", vec![s("x")]), Val::unknown("tenant() takes 0 arguments, not 1"));
        assert_eq!(
            call("resourceGroup", vec![s("a"), s("b"), s("c")]),
            Val::unknown("resourceGroup() takes 0 to 2 arguments, not 3")
        );
    }
}
