from django.conf import settings


def bedrock(request):
    """The Bedrock region and endpoint in use, shown in every page's header."""
    return {
        "bedrock_region": settings.AWS_REGION,
        "bedrock_endpoint": settings.BEDROCK_ENDPOINT_URL or "AWS",
    }
