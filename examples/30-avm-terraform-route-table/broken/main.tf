# A spoke built from Azure Verified Modules without `terraform init`: the
# route table forces everything through the hub firewall with no KMS routes.
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
    deny_dns = {
      name                       = "deny-dns"
      access                     = "Deny"
      direction                  = "Outbound"
      priority                   = 100
      protocol                   = "*"
      source_address_prefix      = "*"
      source_port_range          = "*"
      destination_address_prefix = "AzurePlatformDNS"
      destination_port_range     = "*"
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
