var kmsAddresses = [
  '20.118.99.224'
  '40.83.235.53'
]

resource spoke 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-spoke'
  location: resourceGroup().location
  properties: {
    routes: concat([
      {
        name: 'default-to-firewall'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: '10.0.1.4'
        }
      }
    ], [for (ip, i) in kmsAddresses: {
      name: 'azure-kms-${i + 1}'
      properties: {
        addressPrefix: '${ip}/32'
        nextHopType: 'Internet'
      }
    }])
  }
}
