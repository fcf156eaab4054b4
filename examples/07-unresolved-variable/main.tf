variable "next_hop_type" {
  type        = string
  description = "Where spoke traffic to the internet goes."
}

resource "azurerm_route_table" "spoke" {
  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg-network"

  route {
    name           = "egress"
    address_prefix = "0.0.0.0/0"
    next_hop_type  = var.next_hop_type
  }
}
