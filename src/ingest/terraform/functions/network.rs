//! IP network functions: `cidrhost`, `cidrsubnet`, `cidrnetmask`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::{err, string_arg, Builtin};
use crate::ingest::terraform::eval::{to_number, EvalError, EvalResult};
use crate::ingest::value::Val;
use crate::limits::Budget;

/// Sorted by name.
pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin::new("cidrhost", 2, 2, cidrhost),
    Builtin::new("cidrnetmask", 1, 1, cidrnetmask),
    Builtin::new("cidrsubnet", 3, 3, cidrsubnet),
];

fn cidrhost(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    let mut it = args.into_iter();
    let net = parse_net(&string_arg(it.next(), "cidrhost")?)?;
    let n = to_number(&it.next().unwrap_or(Val::Null))?;
    host(net, n).map(|a| Val::String(a.to_string()))
}

fn cidrsubnet(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    let mut it = args.into_iter();
    let net = parse_net(&string_arg(it.next(), "cidrsubnet")?)?;
    let bits = to_number(&it.next().unwrap_or(Val::Null))?;
    let num = to_number(&it.next().unwrap_or(Val::Null))?;
    subnet(net, bits, num).map(|n| Val::String(n.to_string()))
}

fn cidrnetmask(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    let net = parse_net(&string_arg(args.into_iter().next(), "cidrnetmask")?)?;
    Ok(Val::String(net.netmask().to_string()))
}

fn parse_net(s: &str) -> Result<IpNet, EvalError> {
    s.trim()
        .parse::<IpNet>()
        .map_err(|_| EvalError(format!("\"{s}\" is not a CIDR prefix")))
}

fn host(net: IpNet, n: f64) -> Result<IpAddr, EvalError> {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    let size: u128 = if host_bits >= 128 { u128::MAX } else { 1u128 << host_bits };
    let n = n as i128;
    let offset: u128 = if n < 0 {
        size.checked_sub(n.unsigned_abs())
            .ok_or_else(|| EvalError("cidrhost(): host number out of range".into()))?
    } else {
        n as u128
    };
    if offset >= size {
        return err(format!("cidrhost(): prefix {net} has no host number {n}"));
    }
    Ok(match net.network() {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from((u32::from(a) as u128 + offset) as u32)),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a).wrapping_add(offset))),
    })
}

fn subnet(net: IpNet, newbits: f64, num: f64) -> Result<IpNet, EvalError> {
    let newbits = newbits as u8;
    let new_len = net
        .prefix_len()
        .checked_add(newbits)
        .filter(|l| *l <= net.max_prefix_len())
        .ok_or_else(|| EvalError(format!("cidrsubnet(): {net} cannot be extended by {newbits} bits")))?;
    let num = num as u128;
    if newbits < 128 && num >= (1u128 << newbits) {
        return err(format!("cidrsubnet(): {num} does not fit in {newbits} bits"));
    }
    let shift = u32::from(net.max_prefix_len() - new_len);
    let add = if shift >= 128 { 0 } else { num << shift };
    let addr = match net.network() {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from((u32::from(a) as u128 + add) as u32)),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a).wrapping_add(add))),
    };
    IpNet::new(addr, new_len).map_err(|e| EvalError(format!("cidrsubnet(): {e}")))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{arity_error, call, check, n, s, unknown};
    use super::*;

    #[test]
    fn each_network_function_evaluates() {
        check(
            FUNCTIONS,
            vec![
                ("cidrhost", vec![s("10.0.1.0/24"), n(4.0)], Ok(s("10.0.1.4"))),
                ("cidrnetmask", vec![s("10.0.0.0/20")], Ok(s("255.255.240.0"))),
                ("cidrsubnet", vec![s("10.0.0.0/16"), n(8.0), n(2.0)], Ok(s("10.0.2.0/24"))),
            ],
        );
    }

    #[test]
    fn an_unknown_prefix_is_unknown() {
        assert_eq!(call("cidrhost", vec![unknown(), n(4.0)]), Ok(unknown()));
        assert_eq!(call("cidrsubnet", vec![s("10.0.0.0/16"), n(8.0), unknown()]), Ok(unknown()));
    }

    #[test]
    fn a_call_outside_the_arity_is_an_error() {
        assert_eq!(
            call("cidrhost", vec![s("10.0.0.0/24")]),
            arity_error("cidrhost() takes 2 arguments, not 1")
        );
        assert_eq!(
            call("cidrsubnet", vec![s("10.0.0.0/16"), n(8.0)]),
            arity_error("cidrsubnet() takes 3 arguments, not 2")
        );
        assert_eq!(
            call("cidrnetmask", vec![s("10.0.0.0/16"), n(8.0)]),
            arity_error("cidrnetmask() takes 1 argument, not 2")
        );
    }
}
