param name string
param firewallIp string
param extraRoutes array = []

resource routeTable 'Microsoft.Network/routeTables@2023-04-01' = {
  name: name
  location: resourceGroup().location
  properties: {
    routes: concat([
      {
        name: 'default-to-firewall'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: firewallIp
        }
      }
    ], map(extraRoutes, r => {
      name: r.name
      properties: {
        addressPrefix: r.prefix
        nextHopType: r.hop
      }
    }))
  }
}
