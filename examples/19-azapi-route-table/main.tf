resource "azapi_resource" "route_table" {
  type      = "Microsoft.Network/routeTables@2023-09-01"
  name      = "rt-azapi"
  location  = "westeurope"
  parent_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-network"

  body = {
    properties = {
      disableBgpRoutePropagation = true
      routes = [
        {
          name = "default-to-firewall"
          properties = {
            addressPrefix    = "0.0.0.0/0"
            nextHopType      = "VirtualAppliance"
            nextHopIpAddress = "10.0.1.4"
          }
        }
      ]
    }
  }
}

resource "azapi_resource" "kms_route" {
  type      = "Microsoft.Network/routeTables/routes@2023-09-01"
  name      = "azure-kms-1"
  parent_id = azapi_resource.route_table.id

  body = jsonencode({
    properties = {
      addressPrefix = "20.118.99.224/32"
      nextHopType   = "Internet"
    }
  })
}
