resource "azurerm_route_table" "legacy_style" {
  name                          = "rt-attribute-form"
  location                      = "westeurope"
  resource_group_name           = "rg-network"
  disable_bgp_route_propagation = true

  route = [
    {
      name                   = "default"
      address_prefix         = "0.0.0.0/0"
      next_hop_type          = "VirtualAppliance"
      next_hop_in_ip_address = "10.0.1.4"
    },
    {
      name                   = "vnet"
      address_prefix         = "10.20.0.0/16"
      next_hop_type          = "vnetlocal"
      next_hop_in_ip_address = null
    },
    {
      name                   = "kms-1"
      address_prefix         = "20.118.99.224/32"
      next_hop_type          = "internet"
      next_hop_in_ip_address = null
    },
    {
      name                   = "kms-2"
      address_prefix         = "40.83.235.53/32"
      next_hop_type          = "internet"
      next_hop_in_ip_address = null
    },
  ]
}

resource "azurerm_network_security_group" "attribute_form" {
  name                = "nsg-attribute-form"
  location            = "westeurope"
  resource_group_name = "rg-app"

  security_rule = [
    {
      name                                       = "deny-platform-dns"
      priority                                   = 300
      direction                                  = "Outbound"
      access                                     = "Deny"
      protocol                                   = "Udp"
      source_port_range                          = "*"
      source_port_ranges                         = []
      destination_port_range                     = "53"
      destination_port_ranges                    = []
      source_address_prefix                      = "*"
      source_address_prefixes                    = []
      destination_address_prefix                 = "AzurePlatformDNS"
      destination_address_prefixes               = []
      source_application_security_group_ids      = []
      destination_application_security_group_ids = []
      description                                = "custom DNS only"
    },
  ]
}
