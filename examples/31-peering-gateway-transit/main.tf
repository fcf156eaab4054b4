# A hub with an ExpressRoute gateway, and two spokes peered with it. Routes
# from on-premises (a 0.0.0.0/0 among them) reach a spoke only through a
# peering that uses the hub's gateway (use_remote_gateways, with
# allow_gateway_transit on the hub side).

resource "azurerm_virtual_network" "hub" {
  name                = "vnet-hub"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  address_space       = ["10.0.0.0/16"]
}

resource "azurerm_subnet" "gateway" {
  name                 = "GatewaySubnet"
  resource_group_name  = "rg-hub"
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.0.255.0/27"]
}

resource "azurerm_virtual_network_gateway" "er" {
  name                = "ergw-hub"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  type                = "ExpressRoute"
  sku                 = "Standard"

  ip_configuration {
    public_ip_address_id = azurerm_public_ip.er.id
    subnet_id            = azurerm_subnet.gateway.id
  }
}

resource "azurerm_public_ip" "er" {
  name                = "pip-ergw-hub"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  allocation_method   = "Static"
}

# Spoke 1 uses the hub's gateway: its subnet learns on-premises routes.
resource "azurerm_virtual_network" "spoke1" {
  name                = "vnet-spoke1"
  location            = "westeurope"
  resource_group_name = "rg-spoke1"
  address_space       = ["10.1.0.0/16"]
}

resource "azurerm_subnet" "spoke1" {
  name                 = "snet-workload"
  resource_group_name  = "rg-spoke1"
  virtual_network_name = azurerm_virtual_network.spoke1.name
  address_prefixes     = ["10.1.1.0/24"]
}

resource "azurerm_virtual_network_peering" "hub_to_spoke1" {
  name                      = "hub-to-spoke1"
  resource_group_name       = "rg-hub"
  virtual_network_name      = azurerm_virtual_network.hub.name
  remote_virtual_network_id = azurerm_virtual_network.spoke1.id
  allow_gateway_transit     = true
}

resource "azurerm_virtual_network_peering" "spoke1_to_hub" {
  name                      = "spoke1-to-hub"
  resource_group_name       = "rg-spoke1"
  virtual_network_name      = azurerm_virtual_network.spoke1.name
  remote_virtual_network_id = azurerm_virtual_network.hub.id
  use_remote_gateways       = true
}

# Spoke 2 is peered but does not use the hub's gateway: nothing is learned.
resource "azurerm_virtual_network" "spoke2" {
  name                = "vnet-spoke2"
  location            = "westeurope"
  resource_group_name = "rg-spoke2"
  address_space       = ["10.2.0.0/16"]
}

resource "azurerm_subnet" "spoke2" {
  name                 = "snet-workload"
  resource_group_name  = "rg-spoke2"
  virtual_network_name = azurerm_virtual_network.spoke2.name
  address_prefixes     = ["10.2.1.0/24"]
}

resource "azurerm_virtual_network_peering" "hub_to_spoke2" {
  name                      = "hub-to-spoke2"
  resource_group_name       = "rg-hub"
  virtual_network_name      = azurerm_virtual_network.hub.name
  remote_virtual_network_id = azurerm_virtual_network.spoke2.id
}

resource "azurerm_virtual_network_peering" "spoke2_to_hub" {
  name                      = "spoke2-to-hub"
  resource_group_name       = "rg-spoke2"
  virtual_network_name      = azurerm_virtual_network.spoke2.name
  remote_virtual_network_id = azurerm_virtual_network.hub.id
  use_remote_gateways       = false
}
