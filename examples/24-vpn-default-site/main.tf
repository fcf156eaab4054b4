resource "azurerm_virtual_network_gateway" "vpn" {
  name                = "vgw-hub"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  type                = "Vpn"
  vpn_type            = "RouteBased"
  sku                 = "VpnGw1"

  default_local_network_gateway_id = azurerm_local_network_gateway.onprem.id

  ip_configuration {
    public_ip_address_id = azurerm_public_ip.vpn.id
    subnet_id            = azurerm_subnet.gateway.id
  }
}

resource "azurerm_subnet" "gateway" {
  name                 = "GatewaySubnet"
  resource_group_name  = "rg-hub"
  virtual_network_name = "vnet-hub"
  address_prefixes     = ["10.0.255.0/27"]
}

resource "azurerm_subnet" "exposed" {
  name                 = "snet-exposed"
  resource_group_name  = "rg-hub"
  virtual_network_name = "vnet-hub"
  address_prefixes     = ["10.0.1.0/24"]
}

resource "azurerm_subnet" "isolated" {
  name                 = "snet-isolated"
  resource_group_name  = "rg-hub"
  virtual_network_name = "vnet-hub"
  address_prefixes     = ["10.0.2.0/24"]
}

resource "azurerm_route_table" "no_propagation" {
  name                          = "rt-no-propagation"
  location                      = "westeurope"
  resource_group_name           = "rg-hub"
  bgp_route_propagation_enabled = false
}

resource "azurerm_subnet_route_table_association" "isolated" {
  subnet_id      = azurerm_subnet.isolated.id
  route_table_id = azurerm_route_table.no_propagation.id
}

resource "azurerm_subnet" "kms_routed" {
  name                 = "snet-kms-routed"
  resource_group_name  = "rg-hub"
  virtual_network_name = "vnet-hub"
  address_prefixes     = ["10.0.3.0/24"]
}

resource "azurerm_route_table" "kms" {
  name                = "rt-kms"
  location            = "westeurope"
  resource_group_name = "rg-hub"

  route {
    name           = "azure-kms-1"
    address_prefix = "20.118.99.224/32"
    next_hop_type  = "Internet"
  }

  route {
    name           = "azure-kms-2"
    address_prefix = "40.83.235.53/32"
    next_hop_type  = "Internet"
  }
}

resource "azurerm_subnet_route_table_association" "kms_routed" {
  subnet_id      = azurerm_subnet.kms_routed.id
  route_table_id = azurerm_route_table.kms.id
}
