provider "azurerm" {
  features {}
  environment = "usgovernment"
}

resource "azurerm_route_table" "gov" {
  name                = "rt-gov-spoke"
  location            = "usgovvirginia"
  resource_group_name = "rg-network"

  route {
    name                   = "default-to-firewall"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }

  # Copied from a public-cloud module: these are not the US Government KMS addresses.
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
}
