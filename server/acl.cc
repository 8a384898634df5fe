// ACL users and permission checks (being written).
