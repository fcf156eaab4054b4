param location string = resourceGroup().location

resource spoke 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-spoke'
  location: location
  properties: {
    routes: [
      {
        name: 'default-to-firewall'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: '10.0.1.4'
        }
      }
    ]
  }
}
