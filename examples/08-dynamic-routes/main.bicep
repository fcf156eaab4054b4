var firewallIp = '10.0.1.4'

var routes = {
  default: { prefix: '0.0.0.0/0', hop: 'VirtualAppliance' }
  'kms-1': { prefix: '20.118.99.224/32', hop: 'VirtualAppliance' }
  'kms-2': { prefix: '40.83.235.53/32', hop: 'Internet' }
}

resource spoke 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-spoke-dynamic'
  location: resourceGroup().location
  properties: {
    routes: [for r in items(routes): {
      name: r.key
      properties: {
        addressPrefix: r.value.prefix
        nextHopType: r.value.hop
        nextHopIpAddress: r.value.hop == 'VirtualAppliance' ? firewallIp : null
      }
    }]
  }
}
