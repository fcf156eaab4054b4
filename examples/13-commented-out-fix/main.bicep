resource spoke 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-spoke-commented'
  location: resourceGroup().location
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
      // TODO re-enable once the change request is approved:
      // {
      //   name: 'azure-kms-1'
      //   properties: { addressPrefix: '20.118.99.224/32', nextHopType: 'Internet' }
      // }
      /*
      {
        name: 'azure-kms-2'
        properties: { addressPrefix: '40.83.235.53/32', nextHopType: 'Internet' }
      }
      */
    ]
  }
}
