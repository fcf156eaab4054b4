resource "azurerm_route_table" "spoke" {
  name                = "rt-spoke-allowed"
  location            = "westeurope"
  resource_group_name = "rg-network"

  route {
    name                   = "default-to-firewall"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }

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

resource "azurerm_network_security_group" "app" {
  name                = "nsg-app-allowed"
  location            = "westeurope"
  resource_group_name = "rg-network"

  security_rule {
    name                         = "allow-kms"
    priority                     = 3000
    direction                    = "Outbound"
    access                       = "Allow"
    protocol                     = "Tcp"
    source_port_range            = "*"
    destination_port_range       = "1688"
    source_address_prefix        = "*"
    destination_address_prefixes = ["20.118.99.224", "40.83.235.53"]
  }

  security_rule {
    name                       = "deny-internet"
    priority                   = 4000
    direction                  = "Outbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

resource "azurerm_virtual_network" "spoke" {
  name                = "vnet-spoke"
  location            = "westeurope"
  resource_group_name = "rg-network"
  address_space       = ["10.20.0.0/16"]
}

resource "azurerm_subnet" "app" {
  name                 = "snet-app"
  resource_group_name  = "rg-network"
  virtual_network_name = azurerm_virtual_network.spoke.name
  address_prefixes     = ["10.20.1.0/24"]
}

resource "azurerm_subnet_route_table_association" "app" {
  subnet_id      = azurerm_subnet.app.id
  route_table_id = azurerm_route_table.spoke.id
}

resource "azurerm_subnet_network_security_group_association" "app" {
  subnet_id                 = azurerm_subnet.app.id
  network_security_group_id = azurerm_network_security_group.app.id
}
