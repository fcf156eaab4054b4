locals {
  firewall_ip = "10.0.1.4"

  routes = {
    default = { prefix = "0.0.0.0/0", hop = "VirtualAppliance" }
    kms-1   = { prefix = "20.118.99.224/32", hop = "VirtualAppliance" }
    kms-2   = { prefix = "40.83.235.53/32", hop = "Internet" }
  }
}

resource "azurerm_route_table" "spoke" {
  name                = "rt-spoke-dynamic"
  location            = "westeurope"
  resource_group_name = "rg-network"

  dynamic "route" {
    for_each = local.routes
    content {
      name                   = route.key
      address_prefix         = route.value.prefix
      next_hop_type          = route.value.hop
      next_hop_in_ip_address = route.value.hop == "VirtualAppliance" ? local.firewall_ip : null
    }
  }
}
