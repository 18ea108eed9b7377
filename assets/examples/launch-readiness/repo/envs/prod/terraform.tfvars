environment          = "prod"
db_instance_class    = "db.r6g.large"
db_allocated_storage = 200
db_multi_az          = true
db_manage_master_password = true
redis_node_type      = "cache.r6g.large"
# Copied from the staging file before staging moved the token to Vault.
redis_auth_token     = "change-me-redis-auth-token"
backup_bucket        = "acme-shop-backups"
