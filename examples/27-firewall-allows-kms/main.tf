resource "azurerm_firewall_policy" "hub" {
  name                = "afwp-hub-kms"
  location            = "westeurope"
  resource_group_name = "rg-hub"
}

resource "azurerm_firewall" "hub" {
  name                = "afw-hub-kms"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  sku_name            = "AZFW_VNet"
  sku_tier            = "Standard"
  firewall_policy_id  = azurerm_firewall_policy.hub.id

  ip_configuration {
    name                 = "configuration"
    subnet_id            = azurerm_subnet.firewall.id
    public_ip_address_id = azurerm_public_ip.firewall.id
  }
}

resource "azurerm_firewall_policy_rule_collection_group" "egress" {
  name               = "egress"
  firewall_policy_id = azurerm_firewall_policy.hub.id
  priority           = 200

  network_rule_collection {
    name     = "allow-kms"
    priority = 50
    action   = "Allow"

    rule {
      name                  = "azure-kms"
      protocols             = ["TCP"]
      source_addresses      = ["10.20.0.0/16"]
      destination_addresses = ["20.118.99.224", "40.83.235.53"]
      destination_ports     = ["1688"]
    }
  }

  network_rule_collection {
    name     = "allow-https"
    priority = 100
    action   = "Allow"

    rule {
      name                  = "https-out"
      protocols             = ["TCP"]
      source_addresses      = ["10.20.0.0/16"]
      destination_addresses = ["*"]
      destination_ports     = ["443"]
    }
  }
}

resource "azurerm_route_table" "spoke" {
  name                = "rt-spoke-via-kms-firewall"
  location            = "westeurope"
  resource_group_name = "rg-spoke"

  route {
    name                   = "default-to-firewall"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = azurerm_firewall.hub.ip_configuration[0].private_ip_address
  }
}
