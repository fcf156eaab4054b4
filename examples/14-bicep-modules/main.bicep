var spokes = [
  {
    name: 'rt-spoke-a'
    extraRoutes: [
      { name: 'azure-kms-1', prefix: '20.118.99.224/32', hop: 'Internet' }
      { name: 'azure-kms-2', prefix: '40.83.235.53/32', hop: 'Internet' }
    ]
  }
  {
    name: 'rt-spoke-b'
    extraRoutes: []
  }
]

module spokeRouteTables 'modules/route-table.bicep' = [for spoke in spokes: {
  name: 'deploy-${spoke.name}'
  params: {
    name: spoke.name
    firewallIp: '10.0.1.4'
    extraRoutes: spoke.extraRoutes
  }
}]

module logging 'br:contosoregistry.azurecr.io/bicep/modules/logging:1.0.0' = {
  name: 'logging'
  params: {
    name: 'law-hub'
  }
}
