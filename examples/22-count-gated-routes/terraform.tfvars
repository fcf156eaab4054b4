enable_kms_routes = false
