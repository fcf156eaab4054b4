# A hub from Azure Verified Modules, not yet installed by terraform init: a
# firewall whose policy only lets HTTPS out, the route table that sends
# spokes to it, and an ExpressRoute gateway in the same network as a
# shared-services subnet.

resource "azurerm_virtual_network" "hub" {
  name                = "vnet-hub"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  address_space       = ["10.0.0.0/16"]
}

resource "azurerm_subnet" "shared" {
  name                 = "snet-shared"
  resource_group_name  = "rg-hub"
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.0.1.0/24"]
}

module "policy" {
  source  = "Azure/avm-res-network-firewallpolicy/azurerm"
  version = "0.3.3"

  name                = "afwp-hub"
  location            = "westeurope"
  resource_group_name = "rg-hub"
}

module "egress" {
  source  = "Azure/avm-res-network-firewallpolicy/azurerm//modules/rule_collection_groups"
  version = "0.3.3"

  firewall_policy_rule_collection_group_name               = "egress"
  firewall_policy_rule_collection_group_firewall_policy_id = module.policy.resource_id
  firewall_policy_rule_collection_group_priority           = 200
  firewall_policy_rule_collection_group_network_rule_collection = [
    {
      name     = "allow-https"
      priority = 100
      action   = "Allow"
      rule = [
        {
          name                  = "https-out"
          protocols             = ["TCP"]
          source_addresses      = ["10.0.0.0/8"]
          destination_addresses = ["*"]
          destination_ports     = ["443"]
        }
      ]
    }
  ]
}

module "firewall" {
  source  = "Azure/avm-res-network-azurefirewall/azurerm"
  version = "0.3.0"

  name                = "afw-hub"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  firewall_sku_name   = "AZFW_VNet"
  firewall_sku_tier   = "Standard"
  firewall_policy_id  = module.policy.resource_id
}

module "gateway" {
  source  = "Azure/avm-ptn-vnetgateway/azurerm"
  version = "0.10.3"

  name                  = "vgw-hub"
  location              = "westeurope"
  type                  = "ExpressRoute"
  sku                   = "ErGw1AZ"
  virtual_network_id    = azurerm_virtual_network.hub.id
  subnet_address_prefix = "10.0.255.0/27"
}

module "rt" {
  source  = "Azure/avm-res-network-routetable/azurerm"
  version = "0.4.1"

  name                = "rt-spokes"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  routes = {
    default = {
      name                   = "default-to-firewall"
      address_prefix         = "0.0.0.0/0"
      next_hop_type          = "VirtualAppliance"
      next_hop_in_ip_address = module.firewall.resource.ip_configuration[0].private_ip_address
    }
  }
}
