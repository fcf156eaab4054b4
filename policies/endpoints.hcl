# Endpoints whose traffic has to leave Azure from an Azure public IP.
#
# A route table that sends these addresses anywhere but next hop Internet
# breaks the service (KG101, KG102). Add an `endpoint` block of your own (a
# licence server reached over the internet, say) to get the same route
# analysis for it; `cloud "*"` applies to every cloud.
#
# Source: "Use Azure custom routes to enable KMS activation with forced
# tunneling" and "Windows Virtual Machine activation no longer works in
# Azure" (Microsoft troubleshooting docs, 2024 versions).

endpoint "kms" {
  title    = "KMS"
  purpose  = "Windows activation"
  protocol = "Tcp"
  port     = 1688

  cloud "public" {
    names    = ["azkms.core.windows.net", "kms.core.windows.net"]
    required = ["20.118.99.224", "40.83.235.53"]
    # Retired on 2023-03-01; still listed by the docs. A route to it is harmless.
    retired  = ["23.102.135.246"]
    # Early versions of the doc printed 20.118.99.244 for 20.118.99.224.
    typos    = ["20.118.99.244"]
  }

  cloud "usgov" {
    names    = ["azkms.core.usgovcloudapi.net", "kms.core.usgovcloudapi.net"]
    required = ["52.126.105.2", "23.97.0.13"]
    retired  = []
    typos    = []
  }

  cloud "china" {
    names    = ["azkms.core.chinacloudapi.cn", "kms.core.chinacloudapi.cn"]
    required = ["159.27.28.100", "163.228.64.161", "42.159.7.249"]
    retired  = []
    typos    = []
  }

  cloud "germany" {
    names    = ["kms.core.cloudapi.de"]
    required = ["51.4.143.248"]
    retired  = []
    typos    = []
  }
}

# Azure platform traffic that network security groups do not filter unless a
# rule names the service's own tag ("Azure network security groups overview",
# Azure platform considerations; "Azure KMS and NSGs", faultbucket.ca, 2021).
platform_service "AzurePlatformLKM" {
  title = "KMS"
  rule  = "KG201"
  flows = [{ protocol = "Tcp", port = 1688 }]
}

platform_service "AzurePlatformDNS" {
  title   = "Azure DNS"
  rule    = "KG202"
  address = "168.63.129.16"
  flows   = [{ protocol = "Tcp", port = 53 }, { protocol = "Udp", port = 53 }]
}

platform_service "AzurePlatformIMDS" {
  title   = "instance metadata (IMDS)"
  rule    = "KG203"
  address = "169.254.169.254"
  flows   = [{ protocol = "Tcp", port = 80 }]
}
