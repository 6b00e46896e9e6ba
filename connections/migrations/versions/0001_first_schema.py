"""The first schema: meta, services, connections.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("meta",
                    sa.Column("key", sa.Text, primary_key=True),
                    sa.Column("value", sa.Text, nullable=False))
    op.create_table("services",
                    sa.Column("name", sa.Text, primary_key=True),
                    sa.Column("definition", sa.Text, nullable=False),
                    sa.Column("secrets", sa.LargeBinary),
                    sa.Column("created_at", sa.Float, nullable=False),
                    sa.Column("updated_at", sa.Float, nullable=False))
    op.create_table("connections",
                    sa.Column("link_name", sa.Text, primary_key=True),
                    sa.Column("display_name", sa.Text, nullable=False),
                    sa.Column("service", sa.Text, nullable=False),
                    sa.Column("client_id", sa.Text),
                    sa.Column("scopes", sa.Text, nullable=False, server_default=sa.text("'[]'")),
                    sa.Column("params", sa.Text, nullable=False, server_default=sa.text("'{}'")),
                    sa.Column("status", sa.Text, nullable=False),
                    sa.Column("last_error", sa.Text),
                    sa.Column("secrets", sa.LargeBinary),
                    sa.Column("token_type", sa.Text),
                    sa.Column("expires_at", sa.Float),
                    sa.Column("lifetime", sa.Float),
                    sa.Column("generation", sa.Integer, nullable=False,
                              server_default=sa.text("0")),
                    sa.Column("failures", sa.Integer, nullable=False,
                              server_default=sa.text("0")),
                    sa.Column("retry_at", sa.Float),
                    sa.Column("lease_owner", sa.Text),
                    sa.Column("lease_until", sa.Float),
                    sa.Column("created_at", sa.Float, nullable=False),
                    sa.Column("updated_at", sa.Float, nullable=False),
                    sa.Column("last_used_at", sa.Float))
    op.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")


def downgrade() -> None:
    raise NotImplementedError("the store is never migrated down")
