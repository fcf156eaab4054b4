//! KG202: an outbound NSG rule denies the `AzurePlatformDNS` service tag for Azure DNS (TCP and UDP 53),
//! and no earlier rule allows it first.

use super::platform::PlatformTagRule;

/// Its tag and flows are the pack's `platform_service` whose `rule` is KG202.
pub static RULE: PlatformTagRule = PlatformTagRule {
    code: "KG202",
    name: "nsg-denies-platform-dns",
};

#[cfg(test)]
mod tests {
    use crate::model::Model;
    use crate::rules::testkit::*;

    #[test]
    fn flags_a_udp_only_dns_deny() {
        let m = Model {
            nsgs: vec![nsg(
                "n",
                vec![rule(
                    "deny-dns",
                    100,
                    "Outbound",
                    "Deny",
                    "Udp",
                    &["*"],
                    &["AzurePlatformDNS"],
                    &["53"],
                )],
            )],
            ..Model::default()
        };
        let found = run(&m);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "KG202");
        assert!(found[0].1.ends_with("on UDP 53"), "{}", found[0].1);
    }

    #[test]
    fn quiet_when_the_dns_deny_names_another_tag() {
        let m = Model {
            nsgs: vec![nsg(
                "n",
                vec![rule(
                    "deny-dns",
                    100,
                    "Outbound",
                    "Deny",
                    "*",
                    &["*"],
                    &["AzurePlatformIMDS"],
                    &["53"],
                )],
            )],
            ..Model::default()
        };
        assert_eq!(codes(&m), Vec::<&str>::new());
    }
}
