resource "azurerm_route_table" "hub" {
  name                          = "rt-hub"
  location                      = "westeurope"
  resource_group_name           = "rg-hub"
  bgp_route_propagation_enabled = false
}

resource "azurerm_route" "default" {
  name                   = "default-to-nva"
  resource_group_name    = azurerm_route_table.hub.resource_group_name
  route_table_name       = azurerm_route_table.hub.name
  address_prefix         = "0.0.0.0/0"
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = "10.10.0.4"
}

resource "azurerm_route" "kms" {
  name                = "kms-primary"
  resource_group_name = "rg-hub"
  route_table_name    = "rt-hub"
  address_prefix      = "20.118.99.224/32"
  next_hop_type       = "Internet"
}
