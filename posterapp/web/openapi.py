"""The OpenAPI 3.1 document of the JSON API, kept beside the routes it describes."""

from __future__ import annotations

from ..model import ID_PATTERN

ID = {"type": "string", "pattern": f"^{ID_PATTERN}$", "examples": ["Xy7_k2PqR9ab"]}
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["invalid_selection"]},
                "message": {
                    "type": "string",
                    "description": (
                        "what is wrong and what to do, for a person: in Simplified Chinese, "
                        "or in English when Accept-Language prefers English. Programs should "
                        "read code and field, which never change with the language"
                    ),
                },
                "field": {"type": "string", "description": "the request field at fault"},
            },
        }
    },
}


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def document(public_url: str) -> dict:
    """Return the OpenAPI document, with the public address as the server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "posterapp",
            "version": "1",
            "description": "Make personal 美好生活 posters from a catalog of choices.",
        },
        "servers": [{"url": public_url}],
        "paths": {
            "/api/catalog": {
                "get": {
                    "summary": "The active catalog: campaign, categories, regions, choices",
                    "operationId": "getCatalog",
                    "responses": {
                        "200": {
                            "description": "the catalog",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Catalog"}
                                }
                            },
                        }
                    },
                }
            },
            "/api/posters": {
                "post": {
                    "summary": "Make a poster",
                    "operationId": "createPoster",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/PosterRequest"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "the poster was made",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/PosterLinks"}
                                }
                            },
                        },
                        "400": _error("the body is not a JSON object"),
                        "413": _error("the body is too large"),
                        "415": _error("the body is not sent as JSON"),
                        "422": _error("the picks, name, layout or ref cannot make a poster"),
                        "429": _error("too many posters from this address; see Retry-After"),
                        "503": _error("cannot make posters right now; try again (Retry-After)"),
                    },
                }
            },
            "/api/posters/{id}": {
                "get": {
                    "summary": "A poster's record and links",
                    "operationId": "getPoster",
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": ID}],
                    "responses": {
                        "200": {
                            "description": "the poster",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Poster"}
                                }
                            },
                        },
                        "400": _error("the id holds a control character"),
                        "404": _error("no poster has this id"),
                        "503": _error("the database is not reachable right now; try again"),
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }


URL = {"type": "string", "format": "uri"}
LINKS = {
    "id": ID,
    "image_url": {**URL, "description": "the 1080×1920 PNG poster"},
    "share_url": {**URL, "description": "the share page"},
    "card_url": {**URL, "description": "the 1200×630 PNG card for link previews"},
}
NULLABLE_TEXT = {"type": ["string", "null"]}
SCHEMAS = {
    "Error": ERROR,
    "PosterRequest": {
        "type": "object",
        "required": ["choices"],
        "additionalProperties": False,
        "properties": {
            "choices": {
                "type": "array",
                "items": {"type": "string"},
                "description": "choice ids, between the campaign's min_picks and max_picks",
            },
            "name": {**NULLABLE_TEXT, "description": "the name printed on the poster"},
            "layout": {**NULLABLE_TEXT, "description": "a layout id, where the campaign allows"},
            "ref": {**NULLABLE_TEXT, "description": "id of the poster that brought this user"},
            "city": {
                **NULLABLE_TEXT,
                "description": "where the user is: a region id of the catalog (its regions), "
                "counted in the campaign's numbers by city",
            },
        },
    },
    "PosterLinks": {
        "type": "object",
        "required": list(LINKS),
        "properties": LINKS,
    },
    "Poster": {
        "type": "object",
        "required": [*LINKS, "choices", "name", "layout", "catalog_version", "created_at"],
        "properties": {
            **LINKS,
            "choices": {"type": "array", "items": {"type": "string"}},
            "name": {"type": "string"},
            "layout": {"type": "string"},
            "catalog_version": {"type": "string"},
            "ref": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "Catalog": {
        "type": "object",
        "required": ["campaign", "categories", "regions", "choices", "layouts"],
        "properties": {
            "campaign": {
                "type": "object",
                "required": ["id", "title", "version", "min_picks", "max_picks"],
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "slogan": {"type": "string"},
                    "brand": {"type": "string"},
                    "footer": {"type": "string"},
                    "version": {"type": "string"},
                    "min_picks": {"type": "integer"},
                    "max_picks": {"type": "integer"},
                    "name_max_length": {"type": "integer"},
                    "layout_choice": {"type": "boolean"},
                },
            },
            "categories": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "label", "color"],
                    "properties": {
                        "id": {"type": "string"},
                        "label": {"type": "string"},
                        "color": {"type": "string"},
                    },
                },
            },
            "regions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "label"],
                    "properties": {"id": {"type": "string"}, "label": {"type": "string"}},
                },
            },
            "choices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "label", "category", "region", "icon"],
                    "properties": {
                        "id": {"type": "string"},
                        "label": {"type": "string"},
                        "category": {"type": "string"},
                        "region": {"type": "string"},
                        "icon": {"type": "string"},
                        "icon_url": URL,
                        "description": {"type": "string"},
                        "link": URL,
                    },
                },
            },
            "layouts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "label", "min_picks", "max_picks"],
                    "properties": {
                        "id": {"type": "string"},
                        "label": {"type": "string"},
                        "min_picks": {"type": "integer"},
                        "max_picks": {"type": "integer"},
                    },
                },
            },
        },
    },
}
