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
#             network it belongs to is read from `parent.resource_id`).
#   versions  the versions the mapping covers (comparators, comma-separated);
#             other known versions are reported as not checked.
#   ignore    inputs that hold nothing kmsguard models (tags, locks, …).
#   outputs   output name = "id" or "name": what the call gives back, so a
#             subnet elsewhere links to the resource the call deploys.
#   input "NAME"
#     to        where the value goes in the resource body.
#     versions  when the input is read this way (else every covered version).
#     negate    a bool whose meaning is the opposite of the target's.
#     each      reshapes every element of a list (or every value of a map):
#               element path = target path; "@key" is the map key; a target
#               ending in "[].id" turns a list of ids into [{ id = … }].
#               Without `each` elements are taken as written.
#
# Modules listed under silent_* declare no route table, NSG, subnet,
# peering, firewall or gateway: a call of one is not reported.

silent_bicep = [
  "avm/res/network/private-dns-zone",
  "avm/res/network/dns-zone",
  "avm/res/network/public-ip-address",
  "avm/res/network/public-ip-prefix",
  "avm/res/network/private-endpoint",
  "avm/res/network/application-security-group",
  "avm/res/network/ddos-protection-plan",
  "avm/res/network/network-watcher",
  "avm/res/managed-identity/user-assigned-identity",
  "avm/res/key-vault/vault",
  "avm/res/storage/storage-account",
  "avm/res/resources/resource-group",
  "avm/res/operational-insights/workspace",
  "avm/res/insights/component",
  "avm/res/insights/action-group",
  "avm/res/insights/diagnostic-setting",
  "avm/res/container-registry/registry",
  "avm/res/document-db/database-account",
  "avm/res/app-configuration/configuration-store",
  "avm/res/authorization/role-assignment",
  "avm/ptn/authorization/resource-role-assignment",
  "avm/ptn/authorization/role-assignment",
  # Private DNS zones for private link, and the Azure Monitor Agent's
  # identity and data collection rules.
  "avm/ptn/network/private-link-private-dns-zones",
  "avm/ptn/alz/ama",
]

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
