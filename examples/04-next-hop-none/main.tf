resource "azurerm_route_table" "isolated" {
  name                = "rt-isolated"
  location            = "westeurope"
  resource_group_name = "rg-network"

  route {
    name           = "drop-internet"
    address_prefix = "0.0.0.0/0"
    next_hop_type  = "None"
  }
}
