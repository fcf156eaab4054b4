variable "enable_kms_routes" {
  type = bool
}

variable "kms_addresses" {
  type    = list(string)
  default = ["20.118.99.224", "40.83.235.53"]
}

resource "azurerm_route_table" "hub" {
  name                = "rt-hub-gated"
  location            = "westeurope"
  resource_group_name = "rg-network"

  route {
    name                   = "default-to-firewall"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }
}

resource "azurerm_route" "kms" {
  count               = var.enable_kms_routes ? length(var.kms_addresses) : 0
  name                = "azure-kms-${count.index + 1}"
  resource_group_name = "rg-network"
  route_table_name    = azurerm_route_table.hub.name
  address_prefix      = "${var.kms_addresses[count.index]}/32"
  next_hop_type       = "Internet"
}
