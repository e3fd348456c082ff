"""The local Bedrock: a stand-alone HTTP server speaking Bedrock's REST-JSON protocol for the
evaluation-job and model-import operations (see server.py).  Product code never imports this
package; it reaches the server only through BEDROCK_ENDPOINT_URL."""
