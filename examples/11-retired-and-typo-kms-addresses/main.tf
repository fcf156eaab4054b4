resource "azurerm_network_security_group" "legacy" {
  name                = "nsg-legacy"
  location            = "westeurope"
  resource_group_name = "rg-app"

  security_rule {
    name                       = "allow-kms"
    priority                   = 200
    direction                  = "Outbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "1688"
    source_address_prefix      = "*"
    destination_address_prefix = "23.102.135.246"
  }
}

resource "azurerm_route_table" "legacy" {
  name                = "rt-legacy"
  location            = "westeurope"
  resource_group_name = "rg-network"

  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }

  route {
    name           = "kms-1"
    address_prefix = "20.118.99.244/32"
    next_hop_type  = "Internet"
  }

  route {
    name           = "kms-2"
    address_prefix = "40.83.235.53/32"
    next_hop_type  = "Internet"
  }
}
