module minitask.local/testenv/node

go 1.26.0
