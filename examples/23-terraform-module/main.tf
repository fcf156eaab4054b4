locals {
  kms_routes = [
    { name = "azure-kms-1", prefix = "20.118.99.224/32" },
    { name = "azure-kms-2", prefix = "40.83.235.53/32" },
  ]

  spokes = {
    web  = { extra_routes = local.kms_routes }
    data = { extra_routes = [] }
  }
}

module "spoke" {
  source   = "./modules/spoke"
  for_each = local.spokes

  name         = "rt-${each.key}"
  firewall_ip  = "10.0.1.4"
  extra_routes = each.value.extra_routes
}

module "legacy_vnet" {
  source  = "Azure/vnet/azurerm"
  version = "4.1.0"
}

output "route_table_names" {
  value = { for k, m in module.spoke : k => m.route_table_name }
}
