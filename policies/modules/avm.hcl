# How kmsguard reads calls of Azure Verified Modules (AVM) it does not
# download: each module's inputs mapped onto the Azure resource the module
# deploys, in Azure's REST shape (`name`, `properties.routes`, …).
#
# Why a mapping and not the modules' own source: the findings must point at
# the route or rule written in the call's inputs (not at a line of a module
# file the user never sees), the Bicep modules import shared types from
# other registry modules and the Terraform ones call azapi/modtm and
# submodules, and embedding every released version would weigh megabytes
# for a handful of inputs that matter. The mapping is small, and it is
# checked against every released version's interface: versions.hcl
# (written by generate.py from the modules' public sources) lists each
# version's inputs, and the tests fail when a version declares an input this
# file neither maps nor ignores, or maps one it does not declare.
#
# module "NAME": the Bicep registry path (br/public:NAME:VERSION) or the
# Terraform registry source.
#   produces  route_table, nsg, virtual_network (its subnets and peerings),
#             subnet or peering (a submodule's one subnet or peering; the
#             network it belongs to is read from `parent.resource_id`),
#             hub_networking (see the block before the patterns), firewall,
#             firewall_policy, rule_collection_group or gateway (see the
#             block before the firewall modules).
#   versions  the versions the mapping covers (comparators, comma-separated);
#             other known versions are reported as not checked.
#   ignore    inputs that hold nothing kmsguard models (tags, locks, …).
#   outputs   output name = "id", "name", "resource" ({ id, name }) or
#             "private_ip": what the call gives back, so a subnet elsewhere
#             links to the resource the call deploys.
#   input "NAME"
#     to        where the value goes in the resource body.
#     versions  when the input is read this way (else every covered version).
#     negate    a bool whose meaning is the opposite of the target's.
#     each      reshapes every element of a list (or every value of a map):
#               element path = target path; "@key" is the map key; a target
#               ending in "[].id" turns a list of ids into [{ id = … }].
#               Without `each` elements are taken as written.
#
# Modules listed under silent_terraform declare no route table, NSG, subnet,
# peering, firewall or gateway: a call of one is not reported. The list is
# written by hand because kmsguard has the source of only a few Terraform
# modules. The Bicep list is derived from the modules' sources instead:
# silent.hcl, written by silent.py (its docstring says which modules are
# listed and why the test is conservative).

silent_terraform = [
  "Azure/avm-res-network-privatednszone/azurerm",
  "Azure/avm-res-network-dnszone/azurerm",
  "Azure/avm-res-network-publicipaddress/azurerm",
  "Azure/avm-res-network-publicipprefix/azurerm",
  "Azure/avm-res-network-privateendpoint/azurerm",
  "Azure/avm-res-network-applicationsecuritygroup/azurerm",
  "Azure/avm-res-network-ddosprotectionplan/azurerm",
  "Azure/avm-res-managedidentity-userassignedidentity/azurerm",
  "Azure/avm-res-keyvault-vault/azurerm",
  "Azure/avm-res-storage-storageaccount/azurerm",
  "Azure/avm-res-resources-resourcegroup/azurerm",
  "Azure/avm-res-operationalinsights-workspace/azurerm",
  "Azure/avm-res-insights-component/azurerm",
  "Azure/avm-res-containerregistry-registry/azurerm",
  "Azure/avm-res-documentdb-databaseaccount/azurerm",
  "Azure/avm-res-authorization-roleassignment/azurerm",
  "Azure/avm-utl-regions/azurerm",
  # Not an AVM module, but in most AVM examples: it only computes names.
  "Azure/naming/azurerm",
]

# Bicep: the module passes `routes` through to properties.routes unchanged
# in every version (0.1.0 typed it `array`, 0.2.0 a local type, 0.5.0
# `resourceInput<…routes>`: the same REST shape).
module "avm/res/network/route-table" {
  produces = "route_table"
  ignore   = ["enableTelemetry", "location", "lock", "roleAssignments", "tags"]
  outputs  = { resourceId = "id", name = "name" }

  input "name" { to = "name" }
  input "routes" { to = "properties.routes" }
  input "disableBgpRoutePropagation" { to = "properties.disableBgpRoutePropagation" }
}

# Before 0.3.0 application security groups were REST objects ({ id });
# from 0.3.0 they are lists of ids, wrapped by the module.
module "avm/res/network/network-security-group" {
  produces = "nsg"
  ignore   = ["diagnosticSettings", "enableTelemetry", "flushConnection", "location", "lock", "roleAssignments", "tags"]
  outputs  = { resourceId = "id", name = "name" }

  input "name" { to = "name" }
  input "securityRules" {
    versions = "< 0.3.0"
    to       = "properties.securityRules"
  }
  input "securityRules" {
    versions = ">= 0.3.0"
    to       = "properties.securityRules"
    each = {
      "name"                                                 = "name"
      "properties.access"                                    = "properties.access"
      "properties.direction"                                 = "properties.direction"
      "properties.priority"                                  = "properties.priority"
      "properties.protocol"                                  = "properties.protocol"
      "properties.sourceAddressPrefix"                       = "properties.sourceAddressPrefix"
      "properties.sourceAddressPrefixes"                     = "properties.sourceAddressPrefixes"
      "properties.destinationAddressPrefix"                  = "properties.destinationAddressPrefix"
      "properties.destinationAddressPrefixes"                = "properties.destinationAddressPrefixes"
      "properties.destinationPortRange"                      = "properties.destinationPortRange"
      "properties.destinationPortRanges"                     = "properties.destinationPortRanges"
      "properties.sourceApplicationSecurityGroupResourceIds" = "properties.sourceApplicationSecurityGroups[].id"
      "properties.destinationApplicationSecurityGroupResourceIds" = "properties.destinationApplicationSecurityGroups[].id"
    }
  }
}

# Subnets carry their associations as resource ids in every version; the
# module turns them into { id } objects. Each peering is created on this
# network and, with remotePeeringEnabled (default false), its reverse on the
# remote one (remotePeering* flags); 0.1.x named the remote
# remoteVirtualNetworkId, later versions remoteVirtualNetworkResourceId.
# `reversePeerings` is kmsguard's own: the reverse peering, naming the remote
# network as `localVirtualNetwork.id`.
module "avm/res/network/virtual-network" {
  produces = "virtual_network"
  ignore = [
    "addressPrefixes", "ddosProtectionPlanResourceId", "diagnosticSettings", "dnsServers",
    "enablePrivateEndpointVNetPolicies", "enableTelemetry", "enableVmProtection", "flowTimeoutInMinutes",
    "ipAllocations", "ipamPoolNumberOfIpAddresses", "location", "lock", "roleAssignments", "tags",
    "virtualNetworkBgpCommunity", "vnetEncryption", "vnetEncryptionEnforcement",
  ]
  outputs = { resourceId = "id", name = "name" }

  input "name" { to = "name" }
  input "subnets" {
    to = "properties.subnets"
    each = {
      "name"                           = "name"
      "routeTableResourceId"           = "properties.routeTable.id"
      "networkSecurityGroupResourceId" = "properties.networkSecurityGroup.id"
    }
  }
  input "peerings" {
    to = "properties.virtualNetworkPeerings"
    each = {
      "name"                           = "name"
      "remoteVirtualNetworkId"         = "properties.remoteVirtualNetwork.id"
      "remoteVirtualNetworkResourceId" = "properties.remoteVirtualNetwork.id"
      "allowGatewayTransit"            = "properties.allowGatewayTransit"
      "useRemoteGateways"              = "properties.useRemoteGateways"
    }
  }
  input "peerings" {
    to = "reversePeerings"
    each = {
      "remotePeeringEnabled"             = "enabled"
      "remoteVirtualNetworkId"           = "localVirtualNetwork.id"
      "remoteVirtualNetworkResourceId"   = "localVirtualNetwork.id"
      "remotePeeringAllowGatewayTransit" = "properties.allowGatewayTransit"
      "remotePeeringUseRemoteGateways"   = "properties.useRemoteGateways"
    }
  }
}

# One subnet in the virtual network named by `virtualNetworkName` (a name,
# the module finds the network in the deployment's resource group), with
# its route table and NSG as resource ids like the virtual network
# module's subnets.
module "avm/res/network/virtual-network/subnet" {
  produces = "subnet"
  ignore = [
    "addressPrefix", "addressPrefixes", "applicationGatewayIPConfigurations", "defaultOutboundAccess",
    "delegation", "enableTelemetry", "ipAllocations", "ipamPoolPrefixAllocations", "natGatewayResourceId",
    "privateEndpointNetworkPolicies", "privateLinkServiceNetworkPolicies", "roleAssignments",
    "serviceEndpointPolicies", "serviceEndpoints", "serviceGateway", "sharingScope",
  ]
  outputs = { resourceId = "id", name = "name" }

  input "name" { to = "name" }
  input "virtualNetworkName" { to = "parent.resource_id" }
  input "routeTableResourceId" { to = "properties.routeTable.id" }
  input "networkSecurityGroupResourceId" { to = "properties.networkSecurityGroup.id" }
}

# Terraform: routes are a map of objects; 0.3.0 renamed
# disable_bgp_route_propagation to bgp_route_propagation_enabled.
# subnet_resource_ids (a list in 0.1.0, a map after) associates subnets by
# id: `subnetResourceIds` is kmsguard's own, read by the lowering, which
# joins each to the subnet of that name and network the unit declares.
# The Bicep route table has no such input (subnets name their table).
module "Azure/avm-res-network-routetable/azurerm" {
  produces = "route_table"
  ignore   = ["enable_telemetry", "location", "lock", "resource_group_name", "role_assignments", "routes_legacy_mode", "tags"]
  outputs  = { resource_id = "id", name = "name" }

  input "name" { to = "name" }
  input "routes" {
    to = "properties.routes"
    each = {
      "name"                   = "name"
      "address_prefix"         = "properties.addressPrefix"
      "next_hop_type"          = "properties.nextHopType"
      "next_hop_in_ip_address" = "properties.nextHopIpAddress"
    }
  }
  input "disable_bgp_route_propagation" {
    versions = "< 0.3.0"
    to       = "properties.disableBgpRoutePropagation"
  }
  input "bgp_route_propagation_enabled" {
    versions = ">= 0.3.0"
    to       = "properties.disableBgpRoutePropagation"
    negate   = true
  }
  input "subnet_resource_ids" { to = "subnetResourceIds" }
}

# 0.1.x named rules by their map key with nsg_rule_* fields; 0.2.0 took the
# azurerm_network_security_rule arguments.
module "Azure/avm-res-network-networksecuritygroup/azurerm" {
  produces = "nsg"
  ignore   = ["diagnostic_settings", "enable_telemetry", "location", "lock", "resource_group_name", "role_assignments", "tags", "timeouts"]
  outputs  = { resource_id = "id", name = "name" }

  input "name" { to = "name" }
  input "nsgrules" {
    versions = "< 0.2.0"
    to       = "properties.securityRules"
    each = {
      "@key"                                = "name"
      "nsg_rule_priority"                   = "properties.priority"
      "nsg_rule_direction"                  = "properties.direction"
      "nsg_rule_access"                     = "properties.access"
      "nsg_rule_protocol"                   = "properties.protocol"
      "nsg_rule_destination_port_range"     = "properties.destinationPortRange"
      "nsg_rule_source_address_prefix"      = "properties.sourceAddressPrefix"
      "nsg_rule_destination_address_prefix" = "properties.destinationAddressPrefix"
    }
  }
  input "security_rules" {
    versions = ">= 0.2.0"
    to       = "properties.securityRules"
    each = {
      "name"                                       = "name"
      "access"                                     = "properties.access"
      "direction"                                  = "properties.direction"
      "priority"                                   = "properties.priority"
      "protocol"                                   = "properties.protocol"
      "source_address_prefix"                      = "properties.sourceAddressPrefix"
      "source_address_prefixes"                    = "properties.sourceAddressPrefixes"
      "destination_address_prefix"                 = "properties.destinationAddressPrefix"
      "destination_address_prefixes"               = "properties.destinationAddressPrefixes"
      "destination_port_range"                     = "properties.destinationPortRange"
      "destination_port_ranges"                    = "properties.destinationPortRanges"
      "source_application_security_group_ids"      = "properties.sourceApplicationSecurityGroups[].id"
      "destination_application_security_group_ids" = "properties.destinationApplicationSecurityGroups[].id"
    }
  }
}

# 0.1.x had a different interface (subnet_names, route_tables_ids, …) and is
# not mapped. From 0.2.0 subnets take route_table / network_security_group
# as { id } objects, and peerings are a map whose entries may create the
# reverse peering (create_reverse_peering, reverse_*; all default false).
module "Azure/avm-res-network-virtualnetwork/azurerm" {
  produces = "virtual_network"
  versions = ">= 0.2.0"
  ignore = [
    "address_space", "address_spaces", "bgp_community", "ddos_protection_plan", "diagnostic_settings", "dns_servers",
    "enable_telemetry", "enable_vm_protection", "encryption", "extended_location", "flow_timeout_in_minutes",
    "ignore_body_changes", "ipam_pools", "location", "lock", "parent_id", "resource_group_name", "retry",
    "role_assignments", "subscription_id", "tags", "timeouts", "tracing_tags_enabled", "tracing_tags_prefix",
  ]
  outputs = { resource_id = "id", name = "name" }

  input "name" { to = "name" }
  input "subnets" {
    to = "properties.subnets"
    each = {
      "name"                      = "name"
      "route_table.id"            = "properties.routeTable.id"
      "network_security_group.id" = "properties.networkSecurityGroup.id"
    }
  }
  input "peerings" {
    to = "properties.virtualNetworkPeerings"
    each = {
      "name"                               = "name"
      "remote_virtual_network_resource_id" = "properties.remoteVirtualNetwork.id"
      "allow_gateway_transit"              = "properties.allowGatewayTransit"
      "use_remote_gateways"                = "properties.useRemoteGateways"
    }
  }
  input "peerings" {
    to = "reversePeerings"
    each = {
      "create_reverse_peering"             = "enabled"
      "remote_virtual_network_resource_id" = "localVirtualNetwork.id"
      "reverse_allow_gateway_transit"      = "properties.allowGatewayTransit"
      "reverse_use_remote_gateways"        = "properties.useRemoteGateways"
    }
  }
}

# The submodules, called on their own (avm-ptn-hubnetworking does): one
# subnet or one peering of a network named by id. Until 0.10.0 the network
# was an object (virtual_network = { resource_id }, remote_virtual_network =
# { resource_id }); from 0.11.0 it is an id (parent_id,
# remote_virtual_network_id).
module "Azure/avm-res-network-virtualnetwork/azurerm//modules/subnet" {
  produces = "subnet"
  ignore = [
    "address_prefix", "address_prefixes", "default_outbound_access_enabled", "delegation", "delegations",
    "ignore_body_changes", "ipam_pools", "nat_gateway", "private_endpoint_network_policies",
    "private_endpoint_network_policies_enabled", "private_link_service_network_policies_enabled", "retry",
    "role_assignments", "service_endpoint_policies", "service_endpoints", "service_endpoints_with_location",
    "sharing_scope", "subscription_id", "timeouts",
  ]
  outputs = { name = "name" }

  input "name" { to = "name" }
  input "virtual_network" {
    versions = "< 0.11.0"
    to       = "parent"
  }
  input "parent_id" {
    versions = ">= 0.11.0"
    to       = "parent.resource_id"
  }
  input "route_table" { to = "properties.routeTable" }
  input "network_security_group" { to = "properties.networkSecurityGroup" }
}

module "Azure/avm-res-network-virtualnetwork/azurerm//modules/peering" {
  produces = "peering"
  ignore = [
    "allow_forwarded_traffic", "allow_virtual_network_access", "do_not_verify_remote_gateways",
    "enable_only_ipv6_peering", "ignore_body_changes", "local_peered_address_spaces", "local_peered_subnets",
    "peer_complete_vnets", "remote_peered_address_spaces", "remote_peered_subnets", "retry",
    "reverse_allow_forwarded_traffic", "reverse_allow_virtual_network_access", "reverse_do_not_verify_remote_gateways",
    "reverse_enable_only_ipv6_peering", "reverse_local_peered_address_spaces", "reverse_local_peered_subnets",
    "reverse_name", "reverse_peer_complete_vnets", "reverse_remote_peered_address_spaces",
    "reverse_remote_peered_subnets", "subscription_id", "sync_remote_address_space_enabled",
    "sync_remote_address_space_triggers", "timeouts",
  ]
  outputs = { name = "name" }

  input "name" { to = "name" }
  input "virtual_network" {
    versions = "< 0.11.0"
    to       = "parent"
  }
  input "parent_id" {
    versions = ">= 0.11.0"
    to       = "parent.resource_id"
  }
  input "remote_virtual_network" {
    versions = "< 0.11.0"
    to       = "remote"
  }
  input "remote_virtual_network_id" {
    versions = ">= 0.11.0"
    to       = "remote.resource_id"
  }
  input "allow_gateway_transit" { to = "properties.allowGatewayTransit" }
  input "use_remote_gateways" { to = "properties.useRemoteGateways" }
  input "create_reverse_peering" { to = "reverse.enabled" }
  input "reverse_allow_gateway_transit" { to = "reverse.properties.allowGatewayTransit" }
  input "reverse_use_remote_gateways" { to = "reverse.properties.useRemoteGateways" }
}

# The hub-networking patterns deploy several resources per hub (networks,
# subnets, route tables with routes of their own, firewalls, peerings):
# `produces = "hub_networking"` maps only the map of hubs, and
# src/ingest/registry/pattern.rs builds each hub's resources from it, as
# the pattern's templates do. Bicep named the route table and firewall by
# the hub's key before 0.3.0 (routeTableName, azureFirewallName after).
module "avm/ptn/network/hub-networking" {
  produces = "hub_networking"
  ignore   = ["enableTelemetry", "location"]

  input "hubVirtualNetworks" {
    versions = "< 0.3.0"
    to       = "hubsByKey"
  }
  input "hubVirtualNetworks" {
    versions = ">= 0.3.0"
    to       = "hubs"
  }
}

# Terraform: the routing read by pattern.rs is that of 0.4.0 onwards (the
# user subnets' and firewall's route tables, hub_router_ip_address); before,
# it was written differently and is not mapped.
module "Azure/avm-ptn-hubnetworking/azurerm" {
  produces = "hub_networking"
  versions = ">= 0.4.0"
  ignore   = ["enable_telemetry", "tags"]

  input "hub_virtual_networks" { to = "hubs" }
}

# ---------------------------------------------------------------------------
# Azure Firewall, firewall policies and virtual network gateways (KG301,
# KG101's "the firewall lets KMS through", KG104). Lowered by
# src/ingest/registry/network.rs with the code that lowers the resources.
# Targets under `call.` are facts a module computes from its inputs and the
# REST body has no place for (read there):
#   call.privateIp             the firewall's private address, when written
#   call.ruleCollectionGroups  a policy's groups, each in the REST shape of
#                              Microsoft.Network/firewallPolicies/ruleCollectionGroups
#   call.firewallPolicyId      the policy a separately called group joins
#   call.cluster.clusterMode   BGP, from the gateway's cluster mode name
#   call.virtualNetworkId      the network whose GatewaySubnet the gateway uses
#   call.subnetId              the GatewaySubnet itself
# `fields` reshapes a single object input like one element of `each`;
# `set` writes constants into every element (`list[].key` into the
# elements of a nested list); an `each` entry `a[].b = c[].d` reshapes the
# list `a` of every element into the list `c`.
# An id input left empty ('' is the Bicep modules' "none") is no link.

# Classic network rule collections are REST objects in every version (0.1.1
# typed them `array`, later versions resourceInput<…>: the same shape). A
# firewall policy is linked by id; its rules come from the policy call.
# additionalProperties (0.10+) holds the classic DNS proxy switch.
# firewallPrivateIpAddress (0.11+) pins the private address, otherwise
# assigned by Azure, so `outputs.privateIp` is only known then.
module "avm/res/network/azure-firewall" {
  produces = "firewall"
  ignore   = [
    "additionalPublicIpConfigurations", "applicationRuleCollections", "autoscaleMaxCapacity",
    "autoscaleMinCapacity", "availabilityZones", "azureSkuTier", "diagnosticSettings",
    "enableForcedTunneling", "enableManagementNic", "enableTelemetry", "extendedLocation",
    "hubIPAddresses", "location", "lock", "maintenanceConfiguration", "managementIPAddressObject",
    "managementIPResourceID", "natRuleCollections", "publicIPAddressObject", "publicIPResourceID",
    "roleAssignments", "tags", "threatIntelMode", "virtualHubId", "virtualHubResourceId",
    "virtualHubResoureId", "virtualNetworkResourceId", "zones",
  ]
  outputs  = { resourceId = "id", name = "name", privateIp = "private_ip" }

  input "name" { to = "name" }
  input "networkRuleCollections" { to = "properties.networkRuleCollections" }
  input "firewallPolicyId" { to = "properties.firewallPolicy.id" }
  input "additionalProperties" {
    versions = ">= 0.10.0"
    to       = "properties.additionalProperties"
  }
  input "firewallPrivateIpAddress" {
    versions = ">= 0.11.0"
    to       = "call.privateIp"
  }
}

# Rule collection groups are REST groups without the `properties` wrapper
# in every version; the module deploys each as a child of the policy. A
# base policy (basePolicyResourceId) is not followed, as for the resource.
module "avm/res/network/firewall-policy" {
  produces = "firewall_policy"
  ignore   = [
    "allowSqlRedirect", "autoLearnPrivateRanges", "basePolicyResourceId", "bypassTrafficSettings",
    "certificateName", "defaultWorkspaceId", "defaultWorkspaceResourceId", "enableTelemetry", "fqdns",
    "insightsIsEnabled", "intrusionDetection", "ipAddresses", "keyVaultSecretId", "location", "lock",
    "managedIdentities", "mode", "privateRanges", "retentionDays", "roleAssignments", "servers",
    "signatureOverrides", "snat", "tags", "threatIntelMode", "tier", "workspaces",
  ]
  outputs  = { resourceId = "id", name = "name" }

  input "name" { to = "name" }
  input "enableProxy" { to = "properties.dnsSettings.enableProxy" }
  input "ruleCollectionGroups" {
    to = "call.ruleCollectionGroups"
    each = {
      "name"            = "name"
      "priority"        = "properties.priority"
      "ruleCollections" = "properties.ruleCollections"
    }
  }
}

# Before 0.4.0 BGP was a flag (enableBgp); from 0.4.0 it is the cluster
# mode (activeActiveBgp, activePassiveBgp, …NoBgp). 0.6.0 renamed the
# default site and network inputs to …ResourceId. The gateway sits in the
# GatewaySubnet of the network given.
module "avm/res/network/virtual-network-gateway" {
  produces = "gateway"
  ignore   = [
    "activeActive", "activeGatewayPipName", "adminState", "allowRemoteVnetTraffic",
    "allowVirtualWanTraffic", "asn", "autoScaleConfiguration", "clientRevokedCertThumbprint",
    "clientRootCertData", "customRoutes", "diagnosticSettings", "disableIPSecReplayProtection",
    "domainNameLabel", "domainNameLabelScope", "enableBgpRouteTranslationForNat",
    "enableDnsForwarding", "enablePrivateIpAddress", "enableTelemetry", "existingFirstPipResourceId",
    "existingPrimaryPublicIPResourceId", "firstPipName", "gatewayPipName", "location", "lock",
    "maintenanceConfiguration", "managedIdentity", "natRules", "primaryPublicIPName",
    "publicIPPrefixResourceId", "publicIpAvailabilityZones", "publicIpDiagnosticSettings",
    "publicIpZones", "resiliencyModel", "roleAssignments", "skuName", "tags",
    "vpnClientAadConfiguration", "vpnClientAddressPoolPrefix", "vpnGatewayGeneration", "vpnType",
  ]
  outputs  = { resourceId = "id", name = "name" }

  input "name" { to = "name" }
  input "gatewayType" { to = "properties.gatewayType" }
  input "enableBgp" {
    versions = "< 0.4.0"
    to       = "properties.enableBgp"
  }
  input "clusterSettings" {
    versions = ">= 0.4.0"
    to       = "call.cluster"
    fields   = { "clusterMode" = "clusterMode" }
  }
  input "gatewayDefaultSiteLocalNetworkGatewayId" {
    versions = "< 0.6.0"
    to       = "properties.gatewayDefaultSite.id"
  }
  input "gatewayDefaultSiteLocalNetworkGatewayResourceId" {
    versions = ">= 0.6.0"
    to       = "properties.gatewayDefaultSite.id"
  }
  input "vNetResourceId" {
    versions = "< 0.6.0"
    to       = "call.virtualNetworkId"
  }
  input "virtualNetworkResourceId" {
    versions = ">= 0.6.0"
    to       = "call.virtualNetworkId"
  }
}

# Terraform: the firewall module takes no rules, only its policy's id
# (every version). Its private address is only known after deployment:
# `module.fw.resource.ip_configuration[0].private_ip_address` is linked to
# the call by reference instead. 0.1.x returned id and name, later
# versions resource and resource_id.
module "Azure/avm-res-network-azurefirewall/azurerm" {
  produces = "firewall"
  ignore   = [
    "diagnostic_settings", "enable_telemetry", "firewall_dns_servers", "firewall_ip_configuration",
    "firewall_management_ip_configuration", "firewall_private_ip_ranges", "firewall_sku_name",
    "firewall_sku_tier", "firewall_threat_intel_mode", "firewall_timeouts", "firewall_virtual_hub",
    "firewall_zones", "ip_configurations", "location", "lock", "public_ip_allocation_method",
    "public_ip_ddos_protection_mode", "public_ip_ddos_protection_plan_id",
    "public_ip_domain_name_label", "public_ip_edge_zone", "public_ip_idle_timeout_in_minutes",
    "public_ip_ip_tags", "public_ip_ip_version", "public_ip_location", "public_ip_name",
    "public_ip_public_ip_prefix_id", "public_ip_resource_group_name", "public_ip_reverse_fqdn",
    "public_ip_sku", "public_ip_sku_tier", "public_ip_tags", "public_ip_timeouts", "public_ip_zones",
    "resource_group_name", "role_assignments", "tags",
  ]
  outputs  = { resource_id = "id", id = "id", name = "name", resource = "resource" }

  input "name" { to = "name" }
  input "firewall_policy_id" { to = "properties.firewallPolicy.id" }
}

# The policy module takes no rules: groups are calls of its
# rule_collection_groups submodule. DNS proxy is firewall_policy_dns.proxy_enabled
# in every version.
module "Azure/avm-res-network-firewallpolicy/azurerm" {
  produces = "firewall_policy"
  ignore   = [
    "diagnostic_settings", "enable_telemetry", "firewall_policy_auto_learn_private_ranges_enabled",
    "firewall_policy_base_policy_id", "firewall_policy_explicit_proxy", "firewall_policy_identity",
    "firewall_policy_insights", "firewall_policy_intrusion_detection",
    "firewall_policy_private_ip_ranges", "firewall_policy_sku", "firewall_policy_sql_redirect_allowed",
    "firewall_policy_threat_intelligence_allowlist", "firewall_policy_threat_intelligence_mode",
    "firewall_policy_timeouts", "firewall_policy_tls_certificate", "location", "lock",
    "resource_group_name", "role_assignments", "tags",
  ]
  outputs  = { resource_id = "id", id = "id", name = "name", resource = "resource" }

  input "name" { to = "name" }
  input "firewall_policy_dns" {
    to     = "properties.dnsSettings"
    fields = { "proxy_enabled" = "enableProxy" }
  }
}

# Network rule collections as azurerm's blocks (the same fields in every
# version; 0.3.3 only made more of them optional). Only network rules can
# carry TCP 1688: application rules are HTTP(S)/MSSQL, NAT rules inbound.
module "Azure/avm-res-network-firewallpolicy/azurerm//modules/rule_collection_groups" {
  produces = "rule_collection_group"
  ignore   = [
    "firewall_policy_rule_collection_group_application_rule_collection",
    "firewall_policy_rule_collection_group_nat_rule_collection",
    "firewall_policy_rule_collection_group_timeouts",
  ]
  outputs  = { resource_id = "id", resource = "resource" }

  input "firewall_policy_rule_collection_group_name" { to = "name" }
  input "firewall_policy_rule_collection_group_firewall_policy_id" { to = "call.firewallPolicyId" }
  input "firewall_policy_rule_collection_group_priority" { to = "properties.priority" }
  input "firewall_policy_rule_collection_group_network_rule_collection" {
    to = "properties.ruleCollections"
    each = {
      "name"                         = "name"
      "priority"                     = "priority"
      "action"                       = "action.type"
      "rule[].name"                  = "rules[].name"
      "rule[].protocols"             = "rules[].ipProtocols"
      "rule[].destination_ports"     = "rules[].destinationPorts"
      "rule[].destination_addresses" = "rules[].destinationAddresses"
      "rule[].destination_ip_groups" = "rules[].destinationIpGroups"
      "rule[].destination_fqdns"     = "rules[].destinationFqdns"
    }
    set = {
      "ruleCollectionType" = "FirewallPolicyFilterRuleCollection"
      "rules[].ruleType"   = "NetworkRule"
    }
  }
}

# The Terraform AVM gateway is the pattern module avm-ptn-vnetgateway. The
# azapi-based Azure/avm-res-network-virtualnetworkgateway/azapi has a
# repository but no release tag: versions.hcl lists it with no versions, and
# it is mapped here once a version is published. BGP is
# vpn_bgp_enabled and the default site vpn_default_local_network_gateway_id
# (0.5.0+). The gateway's subnet: subnet_id before 0.3.0; from 0.3.0 the
# GatewaySubnet of virtual_network_id, or (0.7.0+)
# virtual_network_gateway_subnet_id. Local network gateways and their
# connections do not change what the gateway advertises into subnets.
module "Azure/avm-ptn-vnetgateway/azurerm" {
  produces = "gateway"
  ignore   = [
    "default_tags", "diagnostic_settings_virtual_network_gateway", "edge_zone", "enable_telemetry",
    "express_route_circuits", "express_route_remote_vnet_traffic_enabled",
    "express_route_virtual_wan_traffic_enabled", "hosted_on_behalf_of_public_ip_enabled",
    "ip_configurations", "local_network_gateways", "location", "parent_id", "resource_group_name",
    "route_table_bgp_route_propagation_enabled", "route_table_creation_enabled", "route_table_name",
    "route_table_resource_group_name", "route_table_tags", "sku", "subnet_address_prefix",
    "subnet_creation_enabled", "tags", "tracing_tags_enabled", "tracing_tags_prefix",
    "virtual_network_name", "virtual_network_resource_group_name", "vpn_active_active_enabled",
    "vpn_bgp_route_translation_for_nat_enabled", "vpn_bgp_settings", "vpn_custom_route",
    "vpn_dns_forwarding_enabled", "vpn_generation", "vpn_ip_sec_replay_protection_enabled",
    "vpn_point_to_site", "vpn_policy_groups", "vpn_private_ip_address_enabled", "vpn_type",
  ]
  outputs  = { resource_id = "id" }

  input "name" { to = "name" }
  input "type" { to = "properties.gatewayType" }
  input "vpn_bgp_enabled" { to = "properties.enableBgp" }
  input "vpn_default_local_network_gateway_id" {
    versions = ">= 0.5.0"
    to       = "properties.gatewayDefaultSite.id"
  }
  input "subnet_id" {
    versions = "< 0.3.0"
    to       = "call.subnetId"
  }
  input "virtual_network_id" {
    versions = ">= 0.3.0"
    to       = "call.virtualNetworkId"
  }
  input "virtual_network_gateway_subnet_id" {
    versions = ">= 0.7.0"
    to       = "call.subnetId"
  }
}
