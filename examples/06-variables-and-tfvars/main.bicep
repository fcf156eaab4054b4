@description('Environment name, part of every resource name.')
param environment string = 'dev'

@description('Private IP of the hub firewall.')
param firewallIp string

@allowed(['Internet', 'VirtualAppliance'])
param egressNextHop string = 'Internet'

resource spoke 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-${environment}-spoke'
  location: resourceGroup().location
  properties: {
    routes: [
      {
        name: 'egress'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: egressNextHop
          nextHopIpAddress: egressNextHop == 'VirtualAppliance' ? firewallIp : null
        }
      }
    ]
  }
}
