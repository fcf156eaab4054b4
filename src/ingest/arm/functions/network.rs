//! IP network functions.

use super::{num_arg, str_arg, Builtin};
use crate::ingest::value::Val;
use crate::limits::Limits;

/// Sorted by name.
pub(super) const FUNCTIONS: &[Builtin] = &[Builtin::new("cidrsubnet", 3, 3, cidrsubnet)];

fn cidrsubnet(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match (str_arg(&args, 0), num_arg(&args, 1), num_arg(&args, 2)) {
        (Some(net), Some(len), Some(index)) => cidr_subnet(&net, len, index),
        _ => Val::unknown("cidrSubnet() needs a prefix, a prefix length and an index"),
    }
}

/// ARM's `cidrSubnet(network, newPrefixLength, index)`.
fn cidr_subnet(net: &str, len: f64, index: f64) -> Val {
    let Ok(net) = net.trim().parse::<ipnet::Ipv4Net>() else {
        return Val::unknown(format!("cidrSubnet(): {net} is not an IPv4 prefix kmsguard can split"));
    };
    let new_len = len as u8;
    if new_len < net.prefix_len() || new_len > 32 || index < 0.0 {
        return Val::unknown("cidrSubnet(): the prefix length or index is out of range");
    }
    let count = 1u64 << (new_len - net.prefix_len());
    let index = index as u64;
    if index >= count {
        return Val::unknown("cidrSubnet(): the index is out of range");
    }
    let size = 1u64 << (32 - new_len);
    let start = u64::from(u32::from(net.network())) + index * size;
    match ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(start as u32), new_len) {
        Ok(n) => Val::String(n.to_string()),
        Err(_) => Val::unknown("cidrSubnet(): the result is not a prefix"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, check, n, s, unknown};
    use super::*;

    #[test]
    fn each_network_function_evaluates() {
        check(
            FUNCTIONS,
            vec![("cidrSubnet", vec![s("10.144.0.0/20"), n(24.0), n(2.0)], s("10.144.2.0/24"))],
        );
    }

    #[test]
    fn an_unknown_prefix_is_unknown() {
        assert_eq!(call("cidrSubnet", vec![unknown(), n(24.0), n(2.0)]), unknown());
    }

    #[test]
    fn a_call_outside_the_arity_is_unknown_saying_so() {
        assert_eq!(
            call("cidrSubnet", vec![s("10.0.0.0/16"), n(24.0)]),
            Val::unknown("cidrSubnet() takes 3 arguments, not 2")
        );
    }
}
