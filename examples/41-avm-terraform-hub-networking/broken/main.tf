# Two hubs from the AVM hub-networking pattern, routed through network
# virtual appliances: the pattern writes a 0.0.0.0/0 to each hub's router
# into the route table it gives the user subnets, with no KMS routes.
module "hubs" {
  source  = "Azure/avm-ptn-hubnetworking/azurerm"
  version = "0.13.2"

  hub_virtual_networks = {
    weu = {
      name                  = "vnet-hub-weu"
      address_space         = ["10.0.0.0/16"]
      location              = "westeurope"
      parent_id             = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hub-weu"
      hub_router_ip_address = "10.0.0.4"
      routing_address_space = ["10.0.0.0/16"]
      subnets = {
        shared = {
          name             = "snet-shared"
          address_prefixes = ["10.0.1.0/24"]
        }
      }
    }
    neu = {
      name                  = "vnet-hub-neu"
      address_space         = ["10.1.0.0/16"]
      location              = "northeurope"
      parent_id             = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-hub-neu"
      hub_router_ip_address = "10.1.0.4"
      routing_address_space = ["10.1.0.0/16"]
      route_table_entries_user_subnets = [
        {
          name           = "azure-kms-1"
          address_prefix = "20.118.99.224/32"
          next_hop_type  = "Internet"
        },
        {
          name           = "azure-kms-2"
          address_prefix = "40.83.235.53/32"
          next_hop_type  = "Internet"
        },
      ]
    }
  }
}
