locals {
  route_table_name = "rt-${var.environment}-spoke"
}

variable "environment" {
  type    = string
  default = "prod"
}

resource "azurerm_route_table" "spoke" {
  name                = local.route_table_name
  location            = "westeurope"
  resource_group_name = "rg-network"

  route {
    name                   = "egress"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = var.egress_next_hop
    next_hop_in_ip_address = var.egress_next_hop == "VirtualAppliance" ? var.firewall_ip : null
  }
}
