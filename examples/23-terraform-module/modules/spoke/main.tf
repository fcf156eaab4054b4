variable "name" {
  type = string
}

variable "firewall_ip" {
  type = string
}

variable "extra_routes" {
  type = list(object({ name = string, prefix = string }))
}

resource "azurerm_route_table" "this" {
  name                = var.name
  location            = "westeurope"
  resource_group_name = "rg-network"

  route {
    name                   = "default-to-firewall"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = var.firewall_ip
  }

  dynamic "route" {
    for_each = var.extra_routes
    content {
      name           = route.value.name
      address_prefix = route.value.prefix
      next_hop_type  = "Internet"
    }
  }
}

output "route_table_name" {
  value = azurerm_route_table.this.name
}
