"""Signed-in sessions kept on the server, so that signing out ends them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 05:00:00

The session cookie carried the user's id, signed: a copy of it stayed good after signing
out, and after a password change. Now it carries a random token whose SHA-256 is a row
here; signing out deletes the row, a password change or a deactivation deletes the user's
other rows. Cookies from before this revision carry no token: everyone signs in once more.
"""

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_user_sessions")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])


def downgrade():
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
