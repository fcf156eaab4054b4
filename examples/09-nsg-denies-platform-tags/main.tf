resource "azurerm_network_security_group" "workload" {
  name                = "nsg-workload"
  location            = "westeurope"
  resource_group_name = "rg-app"

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

  security_rule {
    name                       = "deny-imds"
    priority                   = 120
    direction                  = "Outbound"
    access                     = "Deny"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_ranges    = ["80", "443"]
    source_address_prefix      = "VirtualNetwork"
    destination_address_prefix = "AzurePlatformIMDS"
  }
}
