module github.com/hr-tools/tempreport

go 1.26.8

require golang.org/x/time v0.16.0
