variable "spokes" {
  type = map(object({ kms_routes = bool }))
  default = {
    a = { kms_routes = true }
    b = { kms_routes = false }
  }
}

locals {
  kms_routes = {
    "azure-kms-1" = "20.118.99.224/32"
    "azure-kms-2" = "40.83.235.53/32"
  }
}

resource "azurerm_route_table" "spoke" {
  for_each            = var.spokes
  name                = "rt-spoke-${each.key}"
  location            = "westeurope"
  resource_group_name = "rg-network"

  route {
    name                   = "default-to-firewall"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }

  dynamic "route" {
    for_each = each.value.kms_routes ? local.kms_routes : {}
    content {
      name           = route.key
      address_prefix = route.value
      next_hop_type  = "Internet"
    }
  }
}
