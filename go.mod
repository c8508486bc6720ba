module github.com/hr-tools/tempreport

go 1.26.8

require (
	github.com/gorilla/websocket v1.5.3
	github.com/joho/godotenv v1.5.1
	github.com/slack-go/slack v0.35.0
	golang.org/x/time v0.16.0
)
