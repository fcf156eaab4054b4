# The same spoke with the KMS routes to next hop Internet beside the forced
# tunnel, and an NSG that leaves platform DNS alone.
variable "firewall_ip" {
  type    = string
  default = "10.0.1.4"
}

module "rt" {
  source  = "Azure/avm-res-network-routetable/azurerm"
  version = "0.4.1"

  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg-spoke"
  routes = {
    azure_kms_1 = {
      name           = "azure-kms-1"
      address_prefix = "20.118.99.224/32"
      next_hop_type  = "Internet"
    }
    azure_kms_2 = {
      name           = "azure-kms-2"
      address_prefix = "40.83.235.53/32"
      next_hop_type  = "Internet"
    }
    default = {
      name                   = "to-firewall"
      address_prefix         = "0.0.0.0/0"
      next_hop_type          = "VirtualAppliance"
      next_hop_in_ip_address = var.firewall_ip
    }
  }
}

module "nsg" {
  source  = "Azure/avm-res-network-networksecuritygroup/azurerm"
  version = "0.5.1"

  name                = "nsg-spoke"
  location            = "westeurope"
  resource_group_name = "rg-spoke"
  security_rules = {
    deny_internet = {
      name                       = "deny-internet-8080"
      access                     = "Deny"
      direction                  = "Outbound"
      priority                   = 100
      protocol                   = "*"
      source_address_prefix      = "*"
      source_port_range          = "*"
      destination_address_prefix = "Internet"
      destination_port_range     = "8080"
    }
  }
}

module "vnet" {
  source  = "Azure/avm-res-network-virtualnetwork/azurerm"
  version = "0.7.1"

  name                = "vnet-spoke"
  location            = "westeurope"
  resource_group_name = "rg-spoke"
  address_space       = ["10.1.0.0/16"]
  subnets = {
    aks = {
      name             = "snet-aks"
      address_prefixes = ["10.1.0.0/24"]
      route_table = {
        id = module.rt.resource_id
      }
      network_security_group = {
        id = module.nsg.resource_id
      }
    }
  }
}

# Identities and key vaults deploy nothing kmsguard checks: no note.
module "identity" {
  source  = "Azure/avm-res-managedidentity-userassignedidentity/azurerm"
  version = "0.3.3"

  name                = "id-aks"
  location            = "westeurope"
  resource_group_name = "rg-spoke"
}
