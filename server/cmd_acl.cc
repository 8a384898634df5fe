// ACL commands (being written).
