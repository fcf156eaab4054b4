resource "azurerm_route_table" "branch" {
  name                = "rt-branch"
  location            = "westeurope"
  resource_group_name = "rg-network"

  route {
    name           = "lower-half-to-vpn"
    address_prefix = "0.0.0.0/1"
    next_hop_type  = "VirtualNetworkGateway"
  }

  route {
    name           = "upper-half-to-vpn"
    address_prefix = "128.0.0.0/1"
    next_hop_type  = "VirtualNetworkGateway"
  }
}
