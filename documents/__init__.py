"""Contract documents (借款合同, 保证合同): typed data in, a rendered and hashed PDF out."""
