"""Settings of the application (the SMTP server of sendmail, the console), secrets sealed.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("settings",
                    sa.Column("name", sa.Text, primary_key=True),
                    sa.Column("value", sa.Text, nullable=False),
                    sa.Column("secrets", sa.LargeBinary),
                    sa.Column("updated_at", sa.Float, nullable=False))
    op.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")


def downgrade() -> None:
    raise NotImplementedError("the store is never migrated down")
