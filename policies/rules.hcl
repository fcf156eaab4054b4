# The rule catalogue: codes, names, default severities and documentation.
# `kmsguard explain CODE` prints these texts; `kmsguard rules` lists them.

# The pack's version, printed by `kmsguard --version`. Raise it whenever an
# address, a severity or a rule's text changes.
pack_version = "2026.12.0"

rule "KG101" {
  name     = "forced-tunnel-blocks-kms"
  severity = "error"
  summary  = "a forced tunnel sends KMS traffic away from next hop Internet"

  what = <<-EOT
    A route table whose effective route to a required KMS address is not next
    hop Internet, because a broader route (0.0.0.0/0, a split default such as
    0.0.0.0/1 + 128.0.0.0/1, a large aggregate) sends it to a firewall, a
    network virtual appliance, a VPN gateway, or drops it (next hop None).
  EOT

  why = <<-EOT
    Azure KMS only answers activation requests that come from an Azure public
    IP. Sent through a firewall, an NVA or a VPN gateway, the requests leave
    Azure from somewhere else (or not at all) and fail. Windows VMs keep
    running unactivated until the grace period ends, so nothing looks wrong
    on the day the route table is deployed.
  EOT

  example = <<-EOT
    resource "azurerm_route_table" "spoke" {
      route {
        name                   = "default-to-firewall"
        address_prefix         = "0.0.0.0/0"
        next_hop_type          = "VirtualAppliance"
        next_hop_in_ip_address = "10.0.1.4"
      }
    }
  EOT

  fix = <<-EOT
    Add a /32 route with next hop Internet for every KMS address of the cloud:

      route {
        name           = "azure-kms-1"
        address_prefix = "20.118.99.224/32"
        next_hop_type  = "Internet"
      }
      route {
        name           = "azure-kms-2"
        address_prefix = "40.83.235.53/32"
        next_hop_type  = "Internet"
      }
  EOT

  references = [
    "Use Azure custom routes to enable KMS activation with forced tunneling (Microsoft docs): https://learn.microsoft.com/troubleshoot/azure/virtual-machines/windows/custom-routes-enable-kms-activation",
    "Windows Virtual Machine activation no longer works in Azure (Microsoft docs): https://learn.microsoft.com/troubleshoot/azure/virtual-machines/windows/windows-vm-activation-no-longer-works",
  ]
}

rule "KG102" {
  name     = "kms-route-not-internet"
  severity = "error"
  summary  = "the /32 route to a KMS address has a next hop other than Internet"

  what = <<-EOT
    A route table has a route for a KMS address's own /32, and that route's
    next hop is not Internet: usually a copy of the default route's next hop,
    or a KMS route that was meant to bypass the firewall but points at it.
  EOT

  why = <<-EOT
    The /32 route wins over every broader route, so it decides where
    activation traffic goes. Anything but next hop Internet makes the request
    leave Azure from an address KMS does not answer, and Windows activation
    fails.
  EOT

  example = <<-EOT
    route {
      name                   = "azure-kms-1"
      address_prefix         = "20.118.99.224/32"
      next_hop_type          = "VirtualAppliance"
      next_hop_in_ip_address = "10.0.1.4"
    }
  EOT

  fix = <<-EOT
    route {
      name           = "azure-kms-1"
      address_prefix = "20.118.99.224/32"
      next_hop_type  = "Internet"
    }
  EOT

  references = [
    "Use Azure custom routes to enable KMS activation with forced tunneling (Microsoft docs): https://learn.microsoft.com/troubleshoot/azure/virtual-machines/windows/custom-routes-enable-kms-activation",
  ]
}

rule "KG103" {
  name     = "stale-kms-address"
  severity = "warning"
  summary  = "a route or rule names a retired or mistyped KMS address"

  what = <<-EOT
    An NSG rule that allows TCP 1688 to explicit KMS addresses lists the
    retired address 23.102.135.246 (or the mistyped 20.118.99.244) but not
    every current address of the cloud; or any route or rule names the
    mistyped address 20.118.99.244, which early versions of Microsoft's
    documentation printed instead of 20.118.99.224.
  EOT

  why = <<-EOT
    Since 2023-03-01 every VM activates against 20.118.99.224 and
    40.83.235.53. A rule or route written for the old address lets through
    nothing that activation uses today, and the typo points at an address
    that is not KMS at all. A route to the retired address beside the current
    ones is harmless and is not flagged.
  EOT

  example = <<-EOT
    security_rule {
      name                       = "allow-kms"
      priority                   = 100
      direction                  = "Outbound"
      access                     = "Allow"
      protocol                   = "Tcp"
      source_port_range          = "*"
      destination_port_range     = "1688"
      source_address_prefix      = "*"
      destination_address_prefix = "23.102.135.246"
    }
  EOT

  fix = <<-EOT
    Name every current address (or the AzurePlatformLKM service tag):

      destination_address_prefixes = ["20.118.99.224", "40.83.235.53"]
  EOT

  references = [
    "Windows Virtual Machine activation no longer works in Azure (Microsoft docs): https://learn.microsoft.com/troubleshoot/azure/virtual-machines/windows/windows-vm-activation-no-longer-works",
  ]
}

rule "KG104" {
  name     = "bgp-default-route-exposure"
  severity = "warning"
  summary  = "a subnet can learn a BGP default route and has no KMS routes"

  what = <<-EOT
    A subnet can learn a default route over BGP or from a VPN gateway's
    default site, and its route table keeps gateway route propagation on
    without /32 Internet routes to the KMS addresses. A gateway reaches the
    subnets of its own virtual network and of networks peered with it whose
    peering uses the remote gateway; when the code does not say a subnet's
    or the gateway's network, kmsguard reports KG901 instead.
  EOT

  why = <<-EOT
    A 0.0.0.0/0 advertised from on-premises over ExpressRoute or VPN is a
    forced tunnel nobody wrote in the route table. KMS traffic follows it and
    activation fails.
  EOT

  example = <<-EOT
    resource "azurerm_route_table" "spoke" {
      bgp_route_propagation_enabled = true
    }
  EOT

  fix = <<-EOT
    Add /32 routes with next hop Internet for the KMS addresses, or turn off
    gateway route propagation where the subnet must not learn on-premises routes.
  EOT

  references = [
    "Virtual network traffic routing (Microsoft docs): https://learn.microsoft.com/azure/virtual-network/virtual-networks-udr-overview",
  ]
}

rule "KG201" {
  name     = "nsg-denies-platform-lkm"
  severity = "error"
  summary  = "an outbound NSG rule denies the AzurePlatformLKM service tag"

  what = <<-EOT
    An outbound NSG rule denies the AzurePlatformLKM service tag for TCP 1688,
    and no earlier rule allows that traffic first.
  EOT

  why = <<-EOT
    Azure's KMS traffic is not subject to NSGs: a deny on Internet or * does
    not block it. A rule that names AzurePlatformLKM does, and blocks Windows
    activation for every VM behind the NSG. Network Watcher's IP flow verify
    reports platform traffic as denied either way, so it cannot be used to
    check this.
  EOT

  example = <<-EOT
    security_rule {
      name                       = "deny-kms"
      priority                   = 100
      direction                  = "Outbound"
      access                     = "Deny"
      protocol                   = "Tcp"
      source_port_range          = "*"
      destination_port_range     = "1688"
      source_address_prefix      = "*"
      destination_address_prefix = "AzurePlatformLKM"
    }
  EOT

  fix = <<-EOT
    Remove the rule, or change its access to Allow. A deny on Internet does not
    need an exception for KMS: platform traffic is not filtered by it.
  EOT

  references = [
    "Azure network security groups overview, Azure platform considerations (Microsoft docs): https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#azure-platform-considerations",
    "Azure KMS and NSGs (faultbucket.ca, 2021)",
  ]
}

rule "KG202" {
  name     = "nsg-denies-platform-dns"
  severity = "warning"
  summary  = "an outbound NSG rule denies the AzurePlatformDNS service tag"

  what = <<-EOT
    An outbound NSG rule denies the AzurePlatformDNS service tag for DNS
    (TCP or UDP 53), and no earlier rule allows that traffic first.
  EOT

  why = <<-EOT
    VMs resolve names through Azure DNS at 168.63.129.16. That traffic is not
    subject to NSGs unless a rule names AzurePlatformDNS; such a deny breaks
    name resolution for every VM behind the NSG that uses Azure-provided DNS.
    It is sometimes intended (custom DNS only), hence a warning.
  EOT

  example = <<-EOT
    security_rule {
      name                       = "deny-azure-dns"
      priority                   = 110
      direction                  = "Outbound"
      access                     = "Deny"
      protocol                   = "*"
      source_port_range          = "*"
      destination_port_range     = "53"
      source_address_prefix      = "*"
      destination_address_prefix = "AzurePlatformDNS"
    }
  EOT

  fix = <<-EOT
    Remove the rule unless the VMs behind this NSG must not use Azure DNS.
  EOT

  references = [
    "Azure network security groups overview, Azure platform considerations (Microsoft docs): https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#azure-platform-considerations",
  ]
}

rule "KG203" {
  name     = "nsg-denies-platform-imds"
  severity = "warning"
  summary  = "an outbound NSG rule denies the AzurePlatformIMDS service tag"

  what = <<-EOT
    An outbound NSG rule denies the AzurePlatformIMDS service tag for TCP 80,
    and no earlier rule allows that traffic first.
  EOT

  why = <<-EOT
    The instance metadata service (169.254.169.254) gives VMs their managed
    identity tokens, scheduled events and configuration. A rule naming
    AzurePlatformIMDS blocks it for every VM behind the NSG; managed
    identities and extensions then fail.
  EOT

  example = <<-EOT
    security_rule {
      name                       = "deny-imds"
      priority                   = 120
      direction                  = "Outbound"
      access                     = "Deny"
      protocol                   = "Tcp"
      source_port_range          = "*"
      destination_port_range     = "80"
      source_address_prefix      = "*"
      destination_address_prefix = "AzurePlatformIMDS"
    }
  EOT

  fix = <<-EOT
    Remove the rule unless the VMs behind this NSG must not reach IMDS.
  EOT

  references = [
    "Azure Instance Metadata Service (Microsoft docs): https://learn.microsoft.com/azure/virtual-machines/instance-metadata-service",
  ]
}

rule "KG204" {
  name     = "nsg-blocks-kms-under-forced-tunnel"
  severity = "error"
  summary  = "under a custom default route, an NSG deny on TCP 1688 blocks KMS"

  what = <<-EOT
    A subnet with a custom default route reaches KMS through its /32 routes,
    but the subnet's or the NIC's NSG denies TCP 1688 to a KMS address.
  EOT

  why = <<-EOT
    "For deployments using default route 0.0.0.0/0 configuration, this
    platform rule [KMS] is disabled": under a forced tunnel, KMS traffic meets
    the NSG like any other traffic, and a deny on Internet or * blocks it.
  EOT

  example = <<-EOT
    security_rule {
      name = "deny-internet", priority = 4000, direction = "Outbound", access = "Deny"
      destination_address_prefix = "Internet" ...
    }
  EOT

  fix = <<-EOT
    Add an outbound allow for TCP 1688 to the KMS addresses at a lower priority
    number than the deny.
  EOT

  references = [
    "Azure network security groups overview, Azure platform considerations (Microsoft docs): https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview#azure-platform-considerations",
  ]
}

rule "KG301" {
  name     = "firewall-blocks-kms"
  severity = "error"
  summary  = "the forced tunnel's Azure Firewall allows no TCP 1688 to KMS"

  what = <<-EOT
    The forced-tunnel next hop is an Azure Firewall in the scanned code and its
    policy allows no TCP 1688 to the KMS addresses (or the azkms name with DNS
    proxy on).
  EOT

  why = <<-EOT
    Azure Firewall SNATs outbound traffic to its own public IP, so activation
    can work through it — but only if a network rule allows TCP 1688 to KMS.
    Application rules cannot carry port 1688.
  EOT

  example = <<-EOT
    A firewall policy whose network rules allow only TCP 443.
  EOT

  fix = <<-EOT
    Add a network rule allowing TCP 1688 to 20.118.99.224 and 40.83.235.53, or
    route the KMS addresses to next hop Internet.
  EOT

  references = [
    "Use Azure custom routes to enable KMS activation with forced tunneling (Microsoft docs): https://learn.microsoft.com/troubleshoot/azure/virtual-machines/windows/custom-routes-enable-kms-activation",
  ]
}

rule "KG901" {
  name     = "unresolved-value"
  severity = "note"
  summary  = "a value that decides a rule could not be evaluated"

  what = <<-EOT
    A value that decides one of the other rules could not be evaluated: a
    variable without a value, a reference to another resource's attribute that
    is only known after apply, a dynamic block over an unknown collection, a
    function kmsguard does not know.
  EOT

  why = <<-EOT
    kmsguard never guesses: a verdict it cannot prove is reported as this note
    instead of an error, with the value that blocked it and how to supply it.
  EOT

  example = <<-EOT
    next_hop_type = var.hop_type   # variable "hop_type" has no default and no tfvars value
  EOT

  fix = <<-EOT
    Supply the value: a default, a terraform.tfvars entry, --var-file or
    --var NAME=VALUE.
  EOT

  references = []
}

rule "KG001" {
  name     = "unused-suppression"
  severity = "warning"
  summary  = "a kmsguard:ignore comment suppresses nothing"

  what = <<-EOT
    A `kmsguard:ignore` or `kmsguard:ignore-file` comment names a rule that
    reports nothing where the comment applies.
  EOT

  why = <<-EOT
    A suppression outlives the problem it hid: the code was fixed, moved or
    renamed. Left in place, it would silently hide the next real finding.
  EOT

  example = <<-EOT
    # kmsguard:ignore KG101 -- firewall allows 1688   (but the table has KMS routes now)
  EOT

  fix = <<-EOT
    Delete the comment.
  EOT
}

rule "KG002" {
  name     = "expired-suppression"
  severity = "warning"
  summary  = "a kmsguard:ignore comment's expiry date has passed"

  what = <<-EOT
    A suppression with `exp:YYYY-MM-DD` whose date has passed. It no longer
    suppresses anything: the finding it hid is reported again.
  EOT

  why = <<-EOT
    Expiring suppressions are promises to come back; this one is due.
  EOT

  example = <<-EOT
    # kmsguard:ignore KG101 exp:2025-01-31 -- until the firewall rule lands
  EOT

  fix = <<-EOT
    Fix the finding, or renew the suppression with a new date and reason.
  EOT
}

rule "KG003" {
  name     = "suppression-without-reason"
  severity = "warning"
  summary  = "a kmsguard:ignore comment gives no reason"

  what = <<-EOT
    A suppression without ` -- reason`. It still suppresses, but reviewers
    cannot tell why the finding is acceptable.
  EOT

  why = <<-EOT
    Every accepted risk needs its reason written next to it.
  EOT

  example = <<-EOT
    # kmsguard:ignore KG201
  EOT

  fix = <<-EOT
    # kmsguard:ignore KG201 -- custom DNS only; see ADR-12
  EOT
}
