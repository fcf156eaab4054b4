@description('Where spoke traffic to the internet goes.')
param nextHopType string

resource spoke 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-spoke'
  location: resourceGroup().location
  properties: {
    routes: [
      {
        name: 'egress'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: nextHopType
        }
      }
    ]
  }
}
