//! KG201: an outbound NSG rule denies the `AzurePlatformLKM` service tag for KMS (TCP 1688),
//! and no earlier rule allows it first.

use super::platform::PlatformTagRule;

/// Its tag and flows are the pack's `platform_service` whose `rule` is KG201.
pub static RULE: PlatformTagRule = PlatformTagRule {
    code: "KG201",
    name: "nsg-denies-platform-lkm",
};

#[cfg(test)]
mod tests {
    use crate::model::Model;
    use crate::rules::testkit::*;

    fn one_nsg(rules: Vec<crate::model::SecurityRule>) -> Model {
        Model {
            nsgs: vec![nsg("nsg-app", rules)],
            ..Model::default()
        }
    }

    #[test]
    fn flags_a_deny_on_the_lkm_tag() {
        let m = one_nsg(vec![rule(
            "deny-kms",
            100,
            "Outbound",
            "Deny",
            "Tcp",
            &["*"],
            &["AzurePlatformLKM"],
            &["1688"],
        )]);
        assert_eq!(
            run(&m),
            vec![(
                "KG201",
                "NSG nsg-app blocks KMS traffic: rule deny-kms (priority 100) denies the AzurePlatformLKM service tag on TCP 1688"
                    .to_string()
            )]
        );
    }

    #[test]
    fn quiet_when_the_deny_names_internet_not_the_tag() {
        // "Azure KMS and NSGs": a deny on Internet does not block platform traffic.
        let m = one_nsg(vec![rule(
            "deny-internet",
            4000,
            "Outbound",
            "Deny",
            "*",
            &["*"],
            &["Internet"],
            &["*"],
        )]);
        assert_eq!(codes(&m), Vec::<&str>::new());
    }

    #[test]
    fn quiet_when_an_earlier_allow_of_the_tag_shadows_the_deny() {
        let m = one_nsg(vec![
            rule(
                "allow-kms",
                100,
                "Outbound",
                "Allow",
                "Tcp",
                &["*"],
                &["AzurePlatformLKM"],
                &["1688"],
            ),
            rule("deny-kms", 200, "Outbound", "Deny", "*", &["*"], &["AzurePlatformLKM"], &["*"]),
        ]);
        assert_eq!(codes(&m), Vec::<&str>::new());
    }

    #[test]
    fn an_earlier_allow_on_star_does_not_shadow_a_tag_deny() {
        let m = one_nsg(vec![
            rule("allow-all", 100, "Outbound", "Allow", "*", &["*"], &["*"], &["*"]),
            rule("deny-kms", 200, "Outbound", "Deny", "Tcp", &["*"], &["AzurePlatformLKM"], &["1688"]),
        ]);
        assert_eq!(codes(&m), vec!["KG201"]);
    }

    #[test]
    fn a_narrower_earlier_allow_does_not_shadow() {
        let m = one_nsg(vec![
            rule(
                "allow-kms-web",
                100,
                "Outbound",
                "Allow",
                "Tcp",
                &["10.0.1.0/24"],
                &["AzurePlatformLKM"],
                &["1688"],
            ),
            rule("deny-kms", 200, "Outbound", "Deny", "Tcp", &["*"], &["AzurePlatformLKM"], &["1688"]),
        ]);
        assert_eq!(codes(&m), vec!["KG201"]);
    }

    #[test]
    fn quiet_for_inbound_rules_other_ports_and_allows() {
        let m = one_nsg(vec![
            rule("in", 100, "Inbound", "Deny", "Tcp", &["*"], &["AzurePlatformLKM"], &["1688"]),
            rule("port", 110, "Outbound", "Deny", "Tcp", &["*"], &["AzurePlatformLKM"], &["443"]),
            rule("icmp", 120, "Outbound", "Deny", "Icmp", &["*"], &["AzurePlatformLKM"], &["*"]),
            rule("allow", 130, "Outbound", "Allow", "Tcp", &["*"], &["AzurePlatformLKM"], &["1688"]),
        ]);
        assert_eq!(codes(&m), Vec::<&str>::new());
    }

    #[test]
    fn a_port_range_covering_1688_counts() {
        let m = one_nsg(vec![rule(
            "deny-range",
            100,
            "Outbound",
            "Deny",
            "Tcp",
            &["*"],
            &["AzurePlatformLKM"],
            &["1000-2000"],
        )]);
        assert_eq!(codes(&m), vec!["KG201"]);
    }

    #[test]
    fn an_unknown_access_is_a_note() {
        let mut r = rule("maybe", 100, "Outbound", "Deny", "Tcp", &["*"], &["AzurePlatformLKM"], &["1688"]);
        r.access = unknown("var.access has no value");
        assert_eq!(codes(&one_nsg(vec![r])), vec!["KG901"]);
    }
}
