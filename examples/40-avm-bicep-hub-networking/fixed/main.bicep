// Two hubs from the AVM hub-networking pattern. The West Europe hub routes
// everything through its network virtual appliance, and keeps KMS traffic
// on next hop Internet with two /32 routes.
module hubs 'br/public:avm/ptn/network/hub-networking:0.5.0' = {
  name: 'hub-networking'
  params: {
    hubVirtualNetworks: {
      'hub-weu': {
        addressPrefixes: ['10.0.0.0/16']
        enableAzureFirewall: false
        enablePeering: true
        peeringSettings: [
          { remoteVirtualNetworkName: 'hub-neu', allowForwardedTraffic: true }
        ]
        routeTableName: 'rt-hub-weu'
        routes: [
          {
            name: 'default-to-nva'
            properties: {
              addressPrefix: '0.0.0.0/0'
              nextHopType: 'VirtualAppliance'
              nextHopIpAddress: '10.0.0.4'
            }
          }
          {
            name: 'azure-kms-1'
            properties: { addressPrefix: '20.118.99.224/32', nextHopType: 'Internet' }
          }
          {
            name: 'azure-kms-2'
            properties: { addressPrefix: '40.83.235.53/32', nextHopType: 'Internet' }
          }
        ]
        subnets: [
          { name: 'snet-nva', addressPrefix: '10.0.0.0/28' }
        ]
      }
      'hub-neu': {
        addressPrefixes: ['10.1.0.0/16']
        enableAzureFirewall: false
        enablePeering: true
        peeringSettings: [
          { remoteVirtualNetworkName: 'hub-weu', allowForwardedTraffic: true }
        ]
        routeTableName: 'rt-hub-neu'
        subnets: [
          { name: 'snet-nva', addressPrefix: '10.1.0.0/28' }
        ]
      }
    }
  }
}
